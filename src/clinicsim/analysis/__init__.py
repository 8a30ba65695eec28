"""Statistical conformance of records to a model, and the model's realism against its sources."""
