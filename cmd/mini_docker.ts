// mini-docker: the docker-like CLI for mini-dockerd (see lib/docker_cli/). Mirrors
// docker/cli's cmd/docker. Run: deno run --allow-all cmd/mini_docker.ts --help
import { runDocker } from "../lib/docker_cli/main.ts";

Deno.exit(await runDocker(Deno.args));
