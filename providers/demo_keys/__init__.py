"""Published demo credentials: used only when DEMO_KEYS is on (the demo and the tests).

They are public by design, so that the README's examples work on a fresh clone. Production
sets every provider secret in the environment and leaves DEMO_KEYS off (the default when DEBUG
is off); ``manage.py check --deploy`` warns when demo keys are active.
"""

from pathlib import Path

JDB_AES_KEY = "demoJdbAesKey128"  # 16 ASCII bytes
JDB_AES_IV = "demoJdbAesIv0016"  # 16 ASCII bytes

VP_AGENT_ID = "integratorDemo01"
VP_API_KEY = "6d1f0c2b9a8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a392817065f4e"
VP_SECRET_KEY = "demo-vp-secret"

_NAGA_DIR = Path(__file__).resolve().parent
NAGA_PUBLIC_KEY_PATH = str(_NAGA_DIR / "naga_demo_public.pem")
NAGA_PRIVATE_KEY_PATH = str(_NAGA_DIR / "naga_demo_private.pem")

BUFFALO_AUTH_TOKEN = "demo-buffalo-token"
