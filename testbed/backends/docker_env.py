"""Is there a Docker daemon we can use? Asked without importing anything heavy and with a short timeout."""

from __future__ import annotations


def docker_client(timeout: int = 5):  # noqa: ANN201 - docker.DockerClient, imported lazily
    import docker

    return docker.from_env(timeout=timeout)


def docker_available() -> bool:
    try:
        client = docker_client(timeout=3)
        client.ping()
        client.close()
        return True
    except Exception:  # noqa: BLE001 - any failure means "no usable daemon"
        return False
