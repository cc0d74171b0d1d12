"""YAML fragments shared by the orchestration tests (consumes blocks of the Shipyard stand-ins)."""

REGISTRY = """
    - namespace: registry
      type: http
      baseUri: "https://registry.invalid"
      authentication:
        type: bearer
        token: "{{REGISTRY_TOKEN}}"
      resources:
        - name: ships
          path: /ships
          operations:
            - name: list-ships
              method: GET
              inputParameters:
                - name: status
                  in: query
            - name: list-ship-ids
              method: GET
              outputParameters:
                - name: imo-number
                  type: string
                  value: "$.imo_number"
        - name: ship
          path: "/ships/{{imo_number}}"
          operations:
            - name: get-ship
              method: GET
              inputParameters:
                - name: imo_number
                  in: path
            - name: get-ship-summary
              method: GET
              outputParameters:
                - name: shipName
                  type: string
                  value: "$.vessel_name"
                - name: crewIds
                  type: array
                  value: "$.assignedCrew"
        - name: crew
          path: /crew
          operations:
            - name: list-crew
              method: GET
        - name: cargo
          path: /cargo
          operations:
            - name: list-cargo
              method: GET
        - name: voyages
          path: /voyages
          operations:
            - name: create-voyage
              method: POST
              body: |
                {"shipImo": "{{shipImo}}", "departurePort": "{{departurePort}}",
                 "arrivalPort": "{{arrivalPort}}", "crewIds": {{crewIds}}}
        - name: voyage
          path: "/voyages/{{voyageId}}"
          operations:
            - name: get-voyage
              method: GET
    - namespace: legacy
      type: http
      baseUri: "https://legacy.invalid"
      resources:
        - name: vessels
          path: /vessels
          operations:
            - name: list-vessels
              method: GET
              outputRawFormat: xml
              inputParameters:
                - name: status
                  in: query
"""


def capability(exposes: str, *, aggregates: str = "", extra_binds: str = "", consumes: str = REGISTRY) -> str:
    """A whole document: the stand-ins' consumes, a bind for the registry token, and ``exposes``."""
    aggregates_block = f"  aggregates:\n{aggregates}" if aggregates else ""
    return f"""naftiko: "1.0.0-alpha2"
binds:
  - namespace: registry-env
    location: "file:///./secrets.yaml"
    keys:
      REGISTRY_TOKEN: registry-bearer-token
{extra_binds}
capability:
  consumes:
{consumes}
{aggregates_block}
  exposes:
{exposes}
"""
