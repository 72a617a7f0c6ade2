"""Layer 3, tooling around the product: the dev broker, the demo, generated files (schemas, dashboards),
the synthetic corpus, benchmarks and the reliability harness.

May import every layer below it and the connectors; nothing in the product imports it (decision 0701).
"""
