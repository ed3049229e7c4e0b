"""An in-cluster Git server, seeded from folders of this project, that Argo CD reads the GitOps repositories from.

The local stack needs no hosted Git account: `pulumi up` installs Forgejo (one pod, SQLite), generates the
owner's and Argo CD's passwords as Pulumi secrets, and runs a Job on Forgejo's own image that pushes each seeded
folder as a repository. The Job's name carries a digest of every seeded file, so editing a values file and running
`pulumi up` again runs a new Job, which commits the change, and Argo CD deploys it. Argo CD reads over plain HTTP
to the server's Service inside the cluster, with a read-only account whose credentials reach it as a
repository-credentials Secret (`repositories`, handed to the Argo CD seed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.argocd import RepositoryCredential
from components.config.load import seed_folder
from components.config.model import (
    GIT_SERVER_OWNER,
    GIT_SERVER_RELEASE,
    GIT_SERVER_SERVICE,
    PLATFORM_REPOSITORY,
    StackConfig,
    domain_repository,
    git_server_base_url,
    git_server_namespace,
)
from components.gitserver.chart import CHART, CHART_VERSION, IMAGE, IMAGE_TAG, forgejo_values
from components.gitserver.seed import Seed, folder_files, seed_archive, seeds_digest
from components.naming import PLATFORM_PROJECT, semantic_labels
from components.secret_data import b64, opaque_secret

__all__ = ["READER_USER", "SEED_IMAGE", "SEED_SCRIPT", "GitServer", "GitServerArgs", "seeds_of"]

SEED_SCRIPT = (Path(__file__).with_name("seed.sh")).read_text()
SEED_IMAGE = f"{IMAGE}:{IMAGE_TAG}-rootless"
"""The server's own image (the chart's `gitea.image` with image.rootless): bash, git, curl and tar are in it."""
READER_USER = "argocd"
"""The read-only account Argo CD clones with."""
ADMIN_SECRET = "forgejo-admin"
READER_SECRET = "forgejo-reader"
SEED_TIMEOUT_SECONDS = 600
"""The Job waits for the server first: the image pull and first start on a laptop take a few minutes."""
_PASSWORD_LENGTH = 32
"""Letters and digits only (they travel inside JSON and netrc unescaped): 32 of 62 symbols, about 190 bits."""


@dataclass(frozen=True)
class GitServerArgs:
    config: StackConfig
    """The stack config; its `gitServer` block names the folders to seed."""


def seeds_of(config: StackConfig) -> list[Seed]:
    """The repositories to seed: the platform repository, then one per domain folder."""
    server = config.git_server
    if server is None:
        return []
    return [
        Seed(PLATFORM_REPOSITORY, seed_folder(server.platform_folder)),
        *(Seed(domain_repository(name), seed_folder(folder)) for name, folder in sorted(server.domain_folders.items())),
    ]


class GitServer(pulumi.ComponentResource):
    """Forgejo in `platform-{env}-gitserver`, its seeded repositories, and Argo CD's credentials for them."""

    repositories: list[RepositoryCredential]
    """Credential templates for Argo CD: one prefix covers every seeded repository."""
    seed_job_name: str
    """`seed-<digest>`: a new name, and a new run, whenever a seeded file, the script or the image changes."""

    def __init__(self, name: str, args: GitServerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:gitserver:GitServer", name, None, opts)
        config = args.config
        env = config.env
        ns_name = git_server_namespace(env)
        labels = semantic_labels(PLATFORM_PROJECT, env, GIT_SERVER_SERVICE)
        child = pulumi.ResourceOptions(parent=self)

        ns = k8s.core.v1.Namespace(
            "gitserver-namespace", metadata=k8s.meta.v1.ObjectMetaArgs(name=ns_name, labels=labels), opts=child
        )
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[ns])
        _, admin = self._account("admin", ADMIN_SECRET, GIT_SERVER_OWNER, ns_name=ns_name, labels=labels, opts=in_ns)
        reader_password, reader = self._account(
            "reader", READER_SECRET, READER_USER, ns_name=ns_name, labels=labels, opts=in_ns
        )

        base_url = git_server_base_url(env)
        release = k8s.helm.v3.Release(
            "gitserver",
            k8s.helm.v3.ReleaseArgs(
                name=GIT_SERVER_RELEASE,
                chart=CHART,
                version=CHART_VERSION,
                namespace=ns_name,
                values=forgejo_values(ADMIN_SECRET, base_url),
                # The pod turns Ready only after its init containers migrated the database and made the owner.
                timeout=SEED_TIMEOUT_SECONDS,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[ns, admin]),
        )

        seeds = seeds_of(config)
        contents = {seed.repository: folder_files(seed.folder) for seed in seeds}
        digest = seeds_digest(contents, SEED_SCRIPT, SEED_IMAGE)
        self.seed_job_name = f"seed-{digest[:12]}"
        seed_data = k8s.core.v1.ConfigMap(
            "gitserver-seed",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=self.seed_job_name, namespace=ns_name, labels=labels),
            data={"seed.sh": SEED_SCRIPT},
            binary_data={f"{repo}.tar.gz": b64(seed_archive(files)) for repo, files in sorted(contents.items())},
            immutable=True,
            opts=in_ns,
        )
        self._seed_job(
            ns_name=ns_name,
            labels=labels,
            base_url=base_url,
            repositories=sorted(contents),
            digest=digest,
            depends_on=[seed_data, admin, reader, release],
        )

        self.repositories = [
            RepositoryCredential(
                url=f"{base_url}/{GIT_SERVER_OWNER}/",
                username=READER_USER,
                password=pulumi.Output.secret(reader_password.result),
            )
        ]
        self.register_outputs(
            {
                "url": base_url,
                "chartVersion": CHART_VERSION,
                "seedJob": self.seed_job_name,
                "repositories": sorted(contents),
            }
        )

    def _account(
        self,
        role: str,
        secret_name: str,
        username: str,
        *,
        ns_name: str,
        labels: dict[str, str],
        opts: pulumi.ResourceOptions,
    ) -> tuple[random.RandomPassword, k8s.core.v1.Secret]:
        """A Forgejo account's generated password, and the Secret holding its username and password."""
        password = random.RandomPassword(
            f"gitserver-{role}-password",
            length=_PASSWORD_LENGTH,
            special=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        secret = opaque_secret(
            secret_name,
            namespace=ns_name,
            labels=labels,
            data={"username": b64(username), "password": pulumi.Output.secret(password.result.apply(b64))},
            opts=opts,
        )
        return password, secret

    def _seed_job(
        self,
        *,
        ns_name: str,
        labels: dict[str, str],
        base_url: str,
        repositories: list[str],
        digest: str,
        depends_on: list[pulumi.Resource],
    ) -> k8s.batch.v1.Job:
        def from_secret(env_name: str, secret: str, key: str) -> k8s.core.v1.EnvVarArgs:
            return k8s.core.v1.EnvVarArgs(
                name=env_name,
                value_from=k8s.core.v1.EnvVarSourceArgs(
                    secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=secret, key=key)
                ),
            )

        plain = {
            "BASE_URL": base_url,
            "HOST": base_url.removeprefix("http://").split(":", 1)[0],
            "OWNER": GIT_SERVER_OWNER,
            "REPOSITORIES": " ".join(repositories),
            "SEED_DIGEST": digest,
        }
        container = k8s.core.v1.ContainerArgs(
            name="seed",
            image=SEED_IMAGE,
            command=["/bin/bash", "/seed/seed.sh"],
            env=[
                *(k8s.core.v1.EnvVarArgs(name=key, value=value) for key, value in plain.items()),
                from_secret("ADMIN_USER", ADMIN_SECRET, "username"),
                from_secret("ADMIN_PASSWORD", ADMIN_SECRET, "password"),
                from_secret("READER_USER", READER_SECRET, "username"),
                from_secret("READER_PASSWORD", READER_SECRET, "password"),
            ],
            volume_mounts=[
                k8s.core.v1.VolumeMountArgs(name="seed", mount_path="/seed", read_only=True),
                k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),
            ],
            resources=k8s.core.v1.ResourceRequirementsArgs(
                requests={"cpu": "10m", "memory": "64Mi"}, limits={"memory": "256Mi"}
            ),
            security_context=k8s.core.v1.SecurityContextArgs(
                allow_privilege_escalation=False,
                capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
                read_only_root_filesystem=True,
                run_as_non_root=True,
                run_as_user=1000,
                run_as_group=1000,
                seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
            ),
        )
        return k8s.batch.v1.Job(
            "gitserver-seed",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=self.seed_job_name, namespace=ns_name, labels=labels),
            spec=k8s.batch.v1.JobSpecArgs(
                backoff_limit=2,
                active_deadline_seconds=SEED_TIMEOUT_SECONDS,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                    spec=k8s.core.v1.PodSpecArgs(
                        restart_policy="Never",
                        automount_service_account_token=False,
                        containers=[container],
                        volumes=[
                            k8s.core.v1.VolumeArgs(
                                name="seed",
                                config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=self.seed_job_name),
                            ),
                            k8s.core.v1.VolumeArgs(name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs()),
                        ],
                    ),
                ),
            ),
            # The provider waits for the Job's Complete condition and fails on Failed (registry docs, batch/v1 Job), so
            # Argo CD, which depends on this component, first syncs a seeded repository.
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=depends_on,
                custom_timeouts=pulumi.CustomTimeouts(create="15m", update="15m"),
            ),
        )
