"""Layer 3, the ``wirewatch`` command line (``main``): argument parsing, then a call into a lower layer.

May import every layer below it and the connectors' service (decision 0701).
"""
