"""One declaration per case type; `accord.composition` collects their `CaseType`s."""
