// `mini-ctr --trace run --rm`: without mini-dockerd the snapshot comes from
// mini-containerd's overlay snapshotter, so the trace shows the snapshot's overlay
// mount options and the shim mounting them as the container's rootfs.

import { assert, assertEquals } from "../helpers/assert.ts";
import { missingOverlay, missingRoot, requirements } from "../helpers/requirements.ts";
import { TestContainerd } from "../helpers/containerd.ts";
import { busyboxArchive } from "../helpers/dockerd.ts";

const EXPECTED_STAGES: RegExp[] = [
  /mini-ctr\[\d+\] +mini-ctr --address \S+ --trace run --rm/,
  /mini-containerd\[\d+\] +Snapshots\/Prepare/,
  /mini-containerd\[\d+\] +snapshot prepared +mount -t overlay overlay -o .*upperdir=.*lowerdir=/,
  /mini-containerd\[\d+\] +Containers\/Create/,
  /mini-containerd\[\d+\] +Tasks\/Create/,
  /mini-containerd\[\d+\] +start mini-containerd-shim/,
  /mini-containerd-shim\[\d+\] +Task\/Create/,
  /mini-containerd-shim\[\d+\] +mount rootfs +mount -t overlay/,
  /mini-runc init\[1\] +pivot_root/,
  /mini-runc init\[1\] +execve +\/bin\/true/,
  /mini-containerd-shim\[\d+\] +reaped/,
  /mini-containerd\[\d+\] +Tasks\/Delete/,
  /mini-containerd\[\d+\] +Snapshots\/Remove/,
];

Deno.test({
  name: "mini-ctr --trace run --rm shows the snapshot's mount options and the container's start",
  ignore: requirements("trace of mini-ctr run", missingRoot(), missingOverlay()),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const daemon = await TestContainerd.start();
    try {
      const imported = await daemon.ctr(["images", "import", await busyboxArchive()]);
      assertEquals(imported.code, 0, imported.stderr);
      const result = await daemon.ctr([
        "--trace",
        "run",
        "--rm",
        "docker.io/library/busybox:latest",
        "traced",
        "true",
      ]);
      assertEquals(result.code, 0, result.stderr);
      const lines = result.stderr.split("\n");
      let from = 0;
      for (const stage of EXPECTED_STAGES) {
        const found = lines.findIndex((line, index) => index >= from && stage.test(line));
        assert(found >= 0, `no ${stage.source} after line ${from}:\n${result.stderr}`);
        from = found + 1;
      }
      const pid = /mini-ctr\[(\d+)\]/.exec(result.stderr)?.[1];
      const left = [...Deno.readDirSync("/run/mini-trace")].filter((entry) =>
        entry.name.startsWith(`trace-${pid}-`)
      );
      assertEquals(left, [], "the trace file is removed afterwards");
    } finally {
      await daemon.cleanup();
    }
  },
});
