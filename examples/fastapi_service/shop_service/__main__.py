"""``victor-shop [--host HOST] [--port PORT]``: serve the shop with uvicorn."""

from __future__ import annotations

import argparse

import uvicorn


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the victor shop over HTTP.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    arguments = parser.parse_args()
    uvicorn.run("shop_service.app:app", host=arguments.host, port=arguments.port)


if __name__ == "__main__":
    main()
