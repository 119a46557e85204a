"""Is there a Docker daemon we can use? Asked without importing anything heavy and with a short timeout."""

from __future__ import annotations


def docker_client(timeout: int = 5):  # noqa: ANN201 - docker.DockerClient, imported lazily
    import docker

    return docker.from_env(timeout=timeout)


def reachable_client(timeout: int):  # noqa: ANN201 - docker.DockerClient, imported lazily
    """A client whose daemon answered a ping, or an EnvironmentProblem that says how to get one."""
    from testbed.errors import EnvironmentProblem

    try:
        client = docker_client(timeout=timeout)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure to reach the daemon reads the same to a person
        raise EnvironmentProblem(f"cannot reach the Docker daemon: {exc}",
                                 fix="start it (systemctl start docker, or dockerd &), or use --backend netns") from exc
    return client


def docker_available() -> bool:
    try:
        client = docker_client(timeout=3)
        client.ping()
        client.close()
        return True
    except Exception:  # noqa: BLE001 - any failure means "no usable daemon"
        return False
