"""`docker-daemon:NAME`: an image saved out of a Docker engine (GET /images/NAME/get) as a docker-archive."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from ..docker_api import connection
from ..errors import BadInput


def save_image(name: str, dest: Path) -> Path:
    """GET /images/NAME/get into dest (a docker-archive), for `--base docker-daemon:NAME`."""
    conn = connection()
    try:
        conn.request("GET", f"/images/{quote(name, safe='')}/get")
        resp = conn.getresponse()
        if resp.status == 404:
            raise BadInput(f"docker-daemon:{name}: no such image in the engine")
        if resp.status != 200:
            raise BadInput(f"docker-daemon:{name}: engine answered {resp.status}")
        with open(dest, "wb") as fh:
            while chunk := resp.read(1 << 20):
                fh.write(chunk)
    except OSError as exc:
        raise BadInput(f"Docker engine unreachable ({exc.strerror or exc})") from None
    finally:
        conn.close()
    return dest
