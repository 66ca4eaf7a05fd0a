"""The review kinds: questions asked of the authenticator and the authorizer, answered in the
response and never stored, so their only verb is ``create``.

authorization.k8s.io/v1: SelfSubjectAccessReview (``kubectl auth can-i``), SelfSubjectRulesReview
(``kubectl auth can-i --list``), SubjectAccessReview (may another user ...?) and its namespaced
form LocalSubjectAccessReview. authentication.k8s.io/v1: SelfSubjectReview (``kubectl auth
whoami``) and TokenReview (who does this token belong to?). They are declared here for the
catalog (discovery, OpenAPI); ``kubelite.api.reviews`` answers them.
"""

from __future__ import annotations

from kubelite.registry.resource import Kind

AUTHORIZATION = "authorization.k8s.io"
AUTHENTICATION = "authentication.k8s.io"
CREATE_ONLY = ("create",)


def _review(group: str, kind: str, description: str, *, namespaced: bool = False) -> Kind:
    return Kind(
        group=group,
        version="v1",
        kind=kind,
        plural=kind.lower() + "s",
        singular=kind.lower(),
        namespaced=namespaced,
        verbs=CREATE_ONLY,
        description=description,
    )


SELFSUBJECTACCESSREVIEWS = _review(
    AUTHORIZATION, "SelfSubjectAccessReview", "Asks whether the requesting user may do one thing."
)
SELFSUBJECTRULESREVIEWS = _review(
    AUTHORIZATION,
    "SelfSubjectRulesReview",
    "Asks for everything the requesting user may do in a namespace.",
)
SUBJECTACCESSREVIEWS = _review(
    AUTHORIZATION, "SubjectAccessReview", "Asks whether a given user may do one thing."
)
LOCALSUBJECTACCESSREVIEWS = _review(
    AUTHORIZATION,
    "LocalSubjectAccessReview",
    "Asks whether a given user may do one thing in this namespace.",
    namespaced=True,
)
SELFSUBJECTREVIEWS = _review(
    AUTHENTICATION, "SelfSubjectReview", "Asks who the server takes the requesting user for."
)
TOKENREVIEWS = _review(AUTHENTICATION, "TokenReview", "Asks who a bearer token authenticates as.")

REVIEW_KINDS = (
    SELFSUBJECTREVIEWS,
    TOKENREVIEWS,
    LOCALSUBJECTACCESSREVIEWS,
    SELFSUBJECTACCESSREVIEWS,
    SELFSUBJECTRULESREVIEWS,
    SUBJECTACCESSREVIEWS,
)
