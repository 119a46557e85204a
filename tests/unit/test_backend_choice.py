"""--backend auto: docker only with its images or their base image at hand, else netns, said in one line."""

from __future__ import annotations

import pytest

from testbed.lab.backend_choice import BASE_IMAGE, Choice, Facts, decide


@pytest.mark.parametrize(("facts", "backend", "says"), [
    (Facts(docker_up=True, lab_images=True, base_image=True, netns_ok=True), "docker", False),
    (Facts(docker_up=True, lab_images=True, base_image=False, netns_ok=True), "docker", False),
    (Facts(docker_up=True, lab_images=False, base_image=True, netns_ok=True), "docker", False),
    # the new user's machine: dockerd runs, nothing is built, nothing to build from
    (Facts(docker_up=True, lab_images=False, base_image=False, netns_ok=True), "netns", True),
    (Facts(docker_up=False, lab_images=False, base_image=False, netns_ok=True), "netns", False),
    (Facts(docker_up=True, lab_images=False, base_image=False, netns_ok=False), "docker", False),
    (Facts(docker_up=False, lab_images=False, base_image=False, netns_ok=False), None, False),
])
def test_decide(facts: Facts, backend: str | None, says: bool) -> None:
    choice = decide(facts)
    assert choice.backend == backend
    assert (choice.note is not None) == says
    if says:
        assert isinstance(choice, Choice) and choice.note is not None
        assert choice.note.startswith("backend: netns") and BASE_IMAGE in choice.note
        assert "\n" not in choice.note
