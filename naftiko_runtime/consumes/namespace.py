"""One consumed namespace as all its calls and forwarders share it.

Every operation of a namespace, and every ``forward`` resource that targets it, sends through the
same pooled client and the same authenticator (one OAuth2 token cache, one digest challenge and its
nonce count) to the same effective base URI. The runtime builds this once per namespace and hands
its parts to each :class:`~.operation.ConsumedCall` and :class:`~.forward.Forwarder`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..spec.models import ConsumesHttp
from ..spec.variables import BindNames
from .auth import Authenticator, build_authenticator
from .transport import HttpClient


@dataclass(frozen=True)
class ConsumedNamespace:
    spec: ConsumesHttp
    client: HttpClient
    authenticator: Authenticator
    base_uri: str  # the effective one: the runtime's override (--base-uri), else the document's

    @classmethod
    def build(
        cls, spec: ConsumesHttp, client: HttpClient, binds: BindNames, base_uri: str | None = None
    ) -> ConsumedNamespace:
        authenticator = build_authenticator(spec.authentication, binds, spec.namespace)
        return cls(spec, client, authenticator, base_uri or spec.base_uri)
