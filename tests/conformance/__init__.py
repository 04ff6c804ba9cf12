"""sitegen's must-fail conformance suite: named hostile inputs, each with the
outcome it must produce (rejected with a given check and field, or published
safely). See cases.py for the model and test_conformance.py for the runner."""
