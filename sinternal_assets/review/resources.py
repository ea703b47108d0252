"""The Argilla deployment that hosts human review, as a Dagster resource."""

from dagster import ConfigurableResource


class ArgillaResource(ConfigurableResource):
    """The Argilla that hosts human review. Empty `api_url` = ARGILLA_API_URL, else the local deployment
    (`scripts/argilla.sh start`). The API key is never configuration: ARGILLA_API_KEY, else the local secrets
    file."""

    api_url: str = ""
    workspace: str = "sinternal"
    dataset_name: str = "critique_review"
    timeout_s: int = 60
    retries: int = 3

    def endpoint(self):
        from sinternal_assets.review.connection import resolve_endpoint

        return resolve_endpoint(self.api_url)

    def client(self):
        from sinternal_assets.review.connection import connect

        return connect(self.endpoint(), timeout=self.timeout_s, retries=self.retries)

    @property
    def disputed_dataset_name(self) -> str:
        """The disputed queue: records whose annotators disagree, back to review for another annotator."""
        from sinternal_assets.review.disputes import disputed_dataset_name

        return disputed_dataset_name(self.dataset_name)

    def dataset(self, client):
        """The review dataset, or None when nothing was pushed yet."""
        return client.datasets(name=self.dataset_name, workspace=self.workspace)

    def review_datasets(self, client) -> list:
        """The review dataset and the disputed queue, those that exist (responses in both count)."""
        names = (self.dataset_name, self.disputed_dataset_name)
        found = [client.datasets(name=name, workspace=self.workspace) for name in names]
        return [dataset for dataset in found if dataset is not None]
