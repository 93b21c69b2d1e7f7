"""Prompt registry API of the caller's tenant (the policy administrators: whoever may `manage` `policy`).
The system prompt and the templates the graph sends the model, versioned like the policy: every publish is a
new version (who, when, why), the active one is what the next turn uses.

Reads: GET /v1/prompts, /v1/prompts/versions[/{n}], /v1/prompts/diff. Dry run: POST /v1/prompts/validate.
Writes (If-Match: the active etag): PUT /v1/prompts, POST /v1/prompts/rollback."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from copilot.api.deps import PrincipalDep, RuntimeDep
from copilot.api.errors import error_responses
from copilot.api.limits import MAX_INT
from copilot.api.policy import ServiceDep
from copilot.llm.runtime_settings import domain_policy
from copilot.packs import load_pack
from copilot.prompts.defaults import instructions
from copilot.prompts.service import PromptRegistry, fields
from copilot.prompts.templates import problems, seed_templates

router = APIRouter(tags=["prompts"], responses=error_responses(401, 403))
Version = Annotated[int, Path(ge=1, le=MAX_INT)]
IfMatch = Annotated[str | None, Header(description="The etag of the version you edited (GET /v1/prompts).")]
Templates = Annotated[dict[str, Annotated[str, Field(max_length=100_000)]], Field(max_length=32)]


def _registry(request: Request, runtime: RuntimeDep) -> PromptRegistry:
    if runtime.prompts is not None:
        return runtime.prompts
    built: PromptRegistry | None = getattr(request.app.state, "prompts", None)
    if built is None:  # a runtime around another turn runner (tests): the same seed as the real one
        settings = runtime.settings
        pack = load_pack(settings.pack_path)
        seed = seed_templates(instructions(domain_policy(settings, pack), pack.tone))
        built = request.app.state.prompts = PromptRegistry(runtime.engine, seed)
    return built


def admin_registry(
    principal: PrincipalDep, service: ServiceDep, registry: Annotated[PromptRegistry, Depends(_registry)]
) -> PromptRegistry:
    """403 unless the caller administers its tenant's policy (checked by ServiceDep)."""
    del principal, service
    return registry


RegistryDep = Annotated[PromptRegistry, Depends(admin_registry)]


class TemplatesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    templates: Templates = Field(description="Every template by name (GET /v1/prompts lists them).")


class PublishIn(TemplatesIn):
    message: str = Field(min_length=1, max_length=2000, description="Why: shown in the history.")


class RollbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Annotated[int, Field(ge=1, le=MAX_INT)] = Field(description="The version to publish again.")
    message: str | None = Field(default=None, max_length=2000)


def _with_etag(response: Response, body: dict[str, Any]) -> dict[str, Any]:
    response.headers["ETag"] = str(body["etag"])
    return body


@router.get("/v1/prompts", summary="The published prompts (templates, etag) and what each template is for")
def get_prompts(registry: RegistryDep, principal: PrincipalDep, response: Response) -> dict[str, Any]:
    active = registry.active(principal.tenant)
    return _with_etag(response, {**active.to_dict(), "tenant": principal.tenant, "fields": fields()})


@router.get("/v1/prompts/versions", summary="Prompt history, newest first: who published what, when and why")
def list_versions(
    registry: RegistryDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> dict[str, Any]:
    versions, total = registry.history(principal.tenant, limit=limit, offset=offset)
    active = registry.active(principal.tenant).version
    return {"versions": [v.to_dict(templates=False) for v in versions], "total": total, "active": active}


@router.get("/v1/prompts/versions/{number}", summary="One version: its templates and the diff vs its parent")
def get_version(number: Version, registry: RegistryDep, principal: PrincipalDep) -> dict[str, Any]:
    return registry.get(principal.tenant, number).to_dict()


@router.get("/v1/prompts/diff", summary="Line diff of every template that differs between two versions")
def diff(
    registry: RegistryDep,
    principal: PrincipalDep,
    base: Annotated[int, Query(ge=1, le=MAX_INT)],
    version: Annotated[int | None, Query(ge=1, le=MAX_INT, description="Default: the published one.")] = None,
) -> dict[str, Any]:
    target = version if version is not None else registry.active(principal.tenant).version
    return registry.diff(principal.tenant, base, target)


@router.post("/v1/prompts/validate", summary="Check proposed templates (nothing is published)")
def validate(body: TemplatesIn, registry: RegistryDep) -> dict[str, Any]:
    found = problems(body.templates)
    return {"valid": not found, "problems": found}


@router.put("/v1/prompts", summary="Publish a new version (If-Match required; templates validated)")
def publish(
    body: PublishIn,
    registry: RegistryDep,
    principal: PrincipalDep,
    response: Response,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    version = registry.publish(
        principal.tenant, body.templates, author=principal.label(), message=body.message, if_match=if_match
    )
    return _with_etag(response, version.to_dict())


@router.post("/v1/prompts/rollback", summary="Publish an old version's templates again, as a new version")
def rollback(
    body: RollbackIn,
    registry: RegistryDep,
    principal: PrincipalDep,
    response: Response,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    version = registry.rollback(
        principal.tenant, body.version, author=principal.label(), if_match=if_match, message=body.message
    )
    return _with_etag(response, version.to_dict())
