"""Human review of the teacher's critiques in Argilla: routing, the dataset, pushing, importing responses."""
