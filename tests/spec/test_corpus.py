"""Every YAML file in ../shared/corpus and ../shared/conformance either loads or is refused for a
known reason, with every error located.

The refusals are pinned below, one rule per file (or the few rules of a file broken in several ways),
each reviewed by hand against the issue's error rules: a file appears here only if a user would agree
it is broken. A file that starts or stops loading, or is refused for a different reason, fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from naftiko_runtime.spec import check

from .helpers import CONFORMANCE, CORPUS, NO_SHARED, SHARED, assert_located

_ACQUIA = "corpus/api-evangelist-providers/acquia/"
_PULUMI = "corpus/api-evangelist-providers/pulumi/"
_NUTANIX = "corpus/api-evangelist-providers/nutanix/"
_INDEX = "corpus/api-search-capabilities-index/"
_FRAMEWORK = "conformance/naftiko-framework-1.0.0-alpha2/"
_GITHUB_SCANNER = "corpus/api-evangelist-naftiko/github-artifact-scanner.yaml"
_IKANOS = "conformance/ikanos-1.0.0-beta5/modules/"
_IKANOS_SPEC = _IKANOS + "ikanos-spec/src/"
_IKANOS_IMPORTS = _IKANOS_SPEC + "test/resources/imports/"

# Generated provider files whose consumes block has `baseUri: ''`: no upstream to call.
_EMPTY_BASE_URI = [
    _ACQUIA + name
    for name in (
        "cloud-account-account.yaml",
        "cloud-application-performance-monitoring-services-application-performance-monitoring-services.yaml",
        "cloud-cloud-ide-cloud-ide.yaml",
        "cloud-current-system-health-current-system-health.yaml",
        "cloud-email-email.yaml",
        "cloud-identity-providers-identity-providers.yaml",
        "cloud-messages-messages.yaml",
        "cloud-openapi-full-account.yaml",
        "cloud-openapi-full-application-performance-monitoring-services.yaml",
        "cloud-openapi-full-cloud-ide.yaml",
        "cloud-openapi-full-codebases.yaml",
        "cloud-openapi-full-distributions.yaml",
        "cloud-openapi-full-environments.yaml",
        "cloud-openapi-full-invite.yaml",
        "cloud-openapi-full-notifications.yaml",
        "cloud-openapi-full-organizations.yaml",
        "cloud-openapi-full-subscriptions.yaml",
        "cloud-options-options.yaml",
        "cloud-private-networks-private-networks.yaml",
        "cloud-teams-and-permissions-teams-and-permissions.yaml",
    )
] + [
    _PULUMI + f"pulumi-{name}.yaml"
    for name in (
        "accesstokens",
        "ai",
        "auditlogs",
        "dataexport",
        "deploymentrunners",
        "insights",
        "insightsaccounts",
        "neo",
        "oidcissuers",
        "policygroups",
        "policyresults",
        "registry",
        "resourcesearch",
        "schedules",
        "services",
        "stackpolicy",
        "stacktags",
        "users",
        "vcs-integrations",
        "workflows",
    )
]

# Basic auth with `{{env.NUTANIX_USER}}` / `{{env.NUTANIX_PASS}}` while the `env` bind declares only
# NUTANIX_API_KEY.
_UNDECLARED_BIND_VARIABLE = [
    _NUTANIX + f"prism-{name}.yaml"
    for name in (
        "central-v3-categories",
        "central-v3-clusters",
        "central-v3-hosts",
        "central-v3-images",
        "central-v3-network-security-rules",
        "central-v3-projects",
        "central-v3-subnets",
        "central-v3-vms",
        "central-v3-webhooks",
        "element-v2-alerts",
        "element-v2-clusters",
        "element-v2-hosts",
        "element-v2-protection-domains",
        "element-v2-snapshots",
        "element-v2-storage-containers",
        "element-v2-storage-pools",
        "element-v2-virtual-disks",
        "element-v2-vms",
    )
]

# Files with neither `naftiko` nor `capability` at the top: OpenAPI mocks, a bind (secrets) file,
# other capability formats (`apiVersion/kind`, `workflow:`, `capabilities:` profiles...).
_NOT_NAFTIKO = [
    _FRAMEWORK + ".github/microcks/naftiko-shipyard-legacy-dockyard-api.yaml",
    _FRAMEWORK + ".github/microcks/naftiko-shipyard-maritime-registry-api.yaml",
    _FRAMEWORK + "src/main/resources/tutorial/shared/secrets.yaml",
    _INDEX + "airbnb--airbnb-listing-management.yaml",
    _INDEX + "amazon-transfer-family--amazon-transfer-family-capability.yaml",
    _INDEX + "apache-http--http-client-integration.yaml",
    _INDEX + "apache-poi--poi-workflow.yaml",
    _INDEX + "baker-hughes--baker-hughes-industrial-platform.yaml",
    _INDEX + "blackrock--blackrock-aladdin.yaml",
    _INDEX + "cloudzero--cloud-cost-finops.yaml",
    _INDEX + "zluri--saas-data-sync.yaml",
    _IKANOS + "ikanos-docs/tutorial/shared/secrets.yaml",
    _IKANOS + "ikanos-engine/src/test/resources/tutorial/shared/secrets.yaml",
    _IKANOS + "ikanos-engine/src/test/resources/schemas/sample-users.yaml",
    _IKANOS + "ikanos-engine/src/test/resources/openapi/naftiko-shipyard-legacy-dockyard-api.yaml",
    _IKANOS + "ikanos-engine/src/test/resources/openapi/naftiko-shipyard-maritime-registry-api.yaml",
    *(
        _IKANOS_SPEC + f"test/resources/openapi/{name}.yaml"
        for name in (
            "complex-api",
            "no-operation-ids",
            "no-servers",
            "petstore-2.0",
            "petstore-3.0",
            "petstore-3.1",
        )
    ),
]

# Ikanos files that declare `ikanos:` but keep the alpha2 lists of named entries (the Java engine
# still reads lists; its schema refuses them): which form the author meant is a guess.
_MIXED_FORMS = [
    _IKANOS + f"ikanos-engine/src/test/resources/imports/{name}"
    for name in (
        "aggregates/shared.aggregates.yml",
        "consumes/shared-clients.yml",
        "consumes/shared.consumes.yml",
        "exposes/shared-servers.yml",
        "exposes/shared.exposes.yml",
    )
]

# The Ikanos reverse tunnel (OpenZiti) cannot be dialled here; going around it would reach another
# network than the author chose. Refused at load, positive and negative fixtures alike.
_TUNNEL = [
    _IKANOS_SPEC + "main/resources/schemas/examples/reverse-tunnel-ziti.yml",
    *(
        _IKANOS_SPEC + f"test/resources/rules/spectral-tunnel-{name}.yaml"
        for name in ("fallback-direct-public", "identity-bound", "identity-unbound")
    ),
]

EXPECTED_REFUSALS: dict[str, str | frozenset[str]] = {
    **dict.fromkeys(_EMPTY_BASE_URI, "empty-base-uri"),
    **dict.fromkeys(_UNDECLARED_BIND_VARIABLE, "undeclared-bind-variable"),
    **dict.fromkeys(_NOT_NAFTIKO, "not-naftiko"),
    **dict.fromkeys(_MIXED_FORMS, "mixed-spec-forms"),
    **dict.fromkeys(_TUNNEL, "unsupported-tunnel"),
    # The framework's own negative fixture: a tool `ref` to `unknown.nonexistent`.
    _FRAMEWORK + "src/test/resources/aggregates/aggregate-invalid-ref.yaml": "unknown-ref",
    _IKANOS + "ikanos-engine/src/test/resources/aggregates/aggregate-invalid-ref.yaml": "unknown-ref",
    # The Ikanos engine's negative import fixture: a file that is not YAML.
    _IKANOS + "ikanos-engine/src/test/resources/imports/invalid/malformed.yml": "yaml-syntax",
    # The Ikanos spec's negative fixtures, each refused for the rule it tests (their Spectral rule
    # in brackets); those still written with alpha2 lists and `label` are mixed forms besides.
    # [schema: unevaluatedProperties] a `name` beside a call tool's mapped output
    _IKANOS_SPEC + "test/resources/capabilities/capability-spurious-name.yml": "schema-type",
    # [ikanos-import-from-required, ikanos-import-import-required]
    _IKANOS_IMPORTS + "import-missing-fields.yaml": "bad-import",
    # [ikanos-import-from-not-self] `from: .`
    _IKANOS_IMPORTS + "import-from-self.yaml": "bad-import",
    # [ikanos-standalone-no-imports]
    _IKANOS_IMPORTS + "standalone-with-imports.yaml": "bad-import",
    # [ikanos-import-unique-alias]; neither imported file exists beside the fixture either
    _IKANOS_IMPORTS + "import-duplicate-alias.yaml": frozenset({"duplicate-namespace", "bad-import"}),
    # [ikanos-exposes-namespace-required, ikanos-aggregates-namespace-required]
    **dict.fromkeys(
        [
            _IKANOS_IMPORTS + name
            for name in (
                "exposes-namespace-missing.yaml",
                "capability-exposes-namespace-missing.yaml",
                "aggregates-namespace-missing.yaml",
                "capability-aggregates-namespace-missing.yaml",
            )
        ],
        frozenset({"schema-type", "mixed-spec-forms"}),
    ),
    # [ikanos-aggregates-unique-function-name] two `get-forecast` functions; they also call a
    # namespace the fixture does not declare.
    _IKANOS_IMPORTS + "aggregate-duplicate-function-name.yaml": frozenset(
        {"mixed-spec-forms", "unknown-call", "duplicate-name"}
    ),
    # Calls `github.search-swagger`...: those are resource names; each resource's operation is
    # `search`, eight operations of one name in one namespace (no call could tell them apart).
    _GITHUB_SCANNER: frozenset({"unknown-call", "duplicate-name"}),
    # Calls `zeebe.*` while the only consumes namespace is `api`; and its bearer token is
    # `{{TOKEN}}`, which no bind declares (it would go out as `Bearer `).
    _INDEX + "zeebe--process-orchestration.yaml": frozenset({"unknown-call", "undeclared-bind-variable"}),
    # A bearer token `{{KUBERNETES_TOKEN}}` / `{{ORION_TOKEN}}` in a file that declares no binds: every
    # request would go out as `Authorization: Bearer `.
    _INDEX + "kubernetes--kubernetes-capability.yaml": "undeclared-bind-variable",
    _INDEX + "orion--orion-capability.yaml": "undeclared-bind-variable",
    # An `in: path` parameter (`workerId`, `journalEntryId`, Azure's `id`/`pipelineId`) that no
    # placeholder of the URL takes, while the `baseUri`'s own placeholder (`{tenant}`,
    # `{organization}`) no parameter feeds: `get-worker` would list every worker, never send the id.
    **dict.fromkeys(
        [
            _INDEX + "azure-devops--devops-project-management.yaml",
            _INDEX + "workday-integration--financial-operations.yaml",
            _INDEX + "workday-integration--hire-to-retire.yaml",
        ],
        "unfed-path-placeholder",
    ),
    # Calls `pro-hcm.*`, which only a non-spec root `imports:` of a file not in the corpus would declare.
    _INDEX + "ukg--hr-administration.yaml": "unknown-call",
    # Two REST operations on `GET /v1/customer-accounts` (and two on `GET /v1/dns-zones`): the second
    # of each pair could never be reached.
    _INDEX + "rackspace-technology--cloud-account-operations.yaml": "duplicate-name",
    # A `workers-kv` consumes entry and calls into an invented `orchestration:` section.
    "corpus/api-evangelist-providers/cloudflare/cloudflare-agent-onboarding.yaml": frozenset(
        {"unsupported-type", "unknown-call"}
    ),
    # Adapters without `namespace` (and tools outside any adapter, a consumes entry with `ref:` and no
    # `baseUri`): those adapters cannot be modelled; the rest of the file is still checked, which finds
    # the consumes entry's empty `baseUri` too (every problem of a file is reported at once).
    _INDEX + "amazon-firewall-manager--amazon-firewall-manager-security-governance.yaml": frozenset(
        {"schema-type", "empty-base-uri"}
    ),
}


def _documents() -> list[Path]:
    return sorted(
        path
        for folder in (CORPUS, CONFORMANCE)
        for path in folder.rglob("*")
        if path.suffix in (".yaml", ".yml") and path.is_file()
    )


def _params() -> list:
    if not SHARED.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=NO_SHARED), id="no-shared-folder")]
    return [pytest.param(path, id=path.relative_to(SHARED).as_posix()) for path in _documents()]


def _expected_rules(relative: str) -> frozenset[str]:
    expected = EXPECTED_REFUSALS.get(relative, frozenset())
    return frozenset({expected}) if isinstance(expected, str) else expected


@pytest.mark.parametrize("path", _params())
def test_document_loads_or_is_refused_for_its_pinned_rule(path: Path) -> None:
    relative = path.relative_to(SHARED).as_posix()
    report = check(path)
    for problem in report.problems:
        assert_located(problem)
    found = {p.rule for p in report.errors}
    expected = _expected_rules(relative)
    listing = "\n".join(p.format() for p in report.errors)
    if not expected:
        assert report.ok, f"{relative} should load, but:\n{listing}"
        assert not report.errors
        return
    assert not report.ok
    assert found == expected, f"{relative}: expected refusal for {sorted(expected)}, got:\n{listing}"
    for problem in report.errors:
        assert problem.file == str(path)


@pytest.mark.skipif(not SHARED.is_dir(), reason=NO_SHARED)
def test_every_pinned_refusal_names_a_file_that_exists() -> None:
    present = {p.relative_to(SHARED).as_posix() for p in _documents()}
    assert set(EXPECTED_REFUSALS) <= present, sorted(set(EXPECTED_REFUSALS) - present)


@pytest.mark.skipif(not SHARED.is_dir(), reason=NO_SHARED)
def test_corpus_is_large_and_mostly_loads() -> None:
    documents = _documents()
    # ≈400 corpus files and ≈160 conformance files; the corpus's pinned refusals are a small
    # minority of it. (The conformance folders are not counted: they hold the framework's negative
    # fixtures and OpenAPI inputs, refused by design.)
    assert len(documents) > 400
    corpus = [p for p in documents if p.is_relative_to(CORPUS)]
    refused = [name for name in EXPECTED_REFUSALS if name.startswith("corpus/")]
    assert len(refused) < len(corpus) // 5


@pytest.mark.skipif(not SHARED.is_dir(), reason=NO_SHARED)
@pytest.mark.parametrize(
    ("relative", "line", "offending"),
    [
        (_EMPTY_BASE_URI[0], 19, "baseUri"),
        (_UNDECLARED_BIND_VARIABLE[1], 52, "{{env.NUTANIX_USER}}"),
        (_GITHUB_SCANNER, 66, "duplicate operation name 'search'"),
        (_INDEX + "zeebe--process-orchestration.yaml", 175, "{{TOKEN}}"),
        (_INDEX + "kubernetes--kubernetes-capability.yaml", 22, "{{KUBERNETES_TOKEN}}"),
        (
            "corpus/api-evangelist-providers/cloudflare/cloudflare-agent-onboarding.yaml",
            90,
            "workers-kv",
        ),
    ],
)
def test_refusals_point_at_the_offending_line(relative: str, line: int, offending: str) -> None:
    path = SHARED / relative
    first = check(path).errors[0]
    assert first.line == line
    assert offending in first.format()
    assert path.read_text(encoding="utf-8").splitlines()[line - 1].strip()  # a real line of the file
