"""Measuring tools, kept out of the product packages: the load harness (``manage.py loadtest``),
``cancel_instructions`` and the ``bench_*`` commands. They may import ``wallet`` and
``providers``; nothing in those imports them. See docs/performance.md.
"""
