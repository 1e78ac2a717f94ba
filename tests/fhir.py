"""Reading the FHIR API in tests: every answer's JSON is checked against the R4B models
of `fhir.resources` (a Bundle with every resource in it), so no test can pass on a
resource the library would refuse."""

import json

from fhir.resources.R4B import get_fhir_model_class

FHIR_JSON = "application/fhir+json; charset=utf-8"


def validated(resource):
    """`resource`, after the R4B model of its type has accepted it."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource


class FhirClient:
    """A test client speaking to /fhir/, as a signed-in person or with a bearer token."""

    def __init__(self, client, token=None):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, address, params=None):
        response = self.client.get(f"/fhir/{address}", params or {}, headers=self.headers)
        return self._read(response)

    def post_search(self, resource_type, params):
        response = self.client.post(f"/fhir/{resource_type}/_search", params, headers=self.headers)
        return self._read(response)

    def create(self, resource_type, resource, *, if_match=None, body=None):
        """POST a resource (or a raw `body`) as application/fhir+json."""
        headers = {**self.headers, **({"If-Match": if_match} if if_match else {})}
        response = self.client.post(
            f"/fhir/{resource_type}",
            body if body is not None else json.dumps(resource),
            content_type="application/fhir+json",
            headers=headers,
        )
        return self._read(response)

    def follow(self, url):
        """A Bundle's link, as the server wrote it (absolute)."""
        path = url.split("/fhir/", 1)[1]
        response = self.client.get(f"/fhir/{path}", headers=self.headers)
        return self._read(response)

    @staticmethod
    def _read(response):
        assert response["Content-Type"] == FHIR_JSON
        response.resource = validated(json.loads(response.content))
        return response


def entries(bundle):
    return [entry["resource"] for entry in bundle["entry"]]


def link(bundle, relation):
    return next((item["url"] for item in bundle["link"] if item["relation"] == relation), None)


def issue_text(response):
    assert response.resource["resourceType"] == "OperationOutcome"
    return response.resource["issue"][0]["diagnostics"]


def issues_by_item(response):
    """{linkId (None for the whole resource): [messages]} of an OperationOutcome."""
    assert response.resource["resourceType"] == "OperationOutcome"
    found = {}
    for issue in response.resource["issue"]:
        expression = issue.get("expression", [None])[0]
        key = expression.split("'")[1] if expression else None
        found.setdefault(key, []).append(issue["diagnostics"])
    return found
