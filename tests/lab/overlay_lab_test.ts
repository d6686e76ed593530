// Runs the overlay lab (examples/lab/01-overlay.sh) and checks what it teaches, from its
// output and from the files it leaves in LAB_DIR: the union view, copy-up leaving the
// lower file empty, new files and whiteouts in the upper layer, the upper layer keeping
// everything after unmount; then the same through mini-ctr snapshots, down to the
// layer blob whose listing shows the changes and the whiteout.

import { join } from "node:path";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { REPO_ROOT } from "../helpers/containerd.ts";
import { missingOverlay, missingRoot, missingTool, requirements } from "../helpers/requirements.ts";
import { assertNoMountsUnder, listNames } from "../snapshots/helpers.ts";

Deno.test({
  name:
    "lab: the overlay lab shows union, copy-up, new files, whiteouts, and the same via snapshots",
  ignore: requirements("lab: overlay", missingRoot(), missingOverlay(), missingTool("bash")),
  async fn() {
    const lab = await Deno.makeTempDir({ prefix: "mini-overlay-lab-test-" });
    try {
      const environment: Record<string, string> = {
        ...Deno.env.toObject(),
        LAB_DIR: lab,
        DENO: Deno.execPath(),
      };
      delete environment.MINI_CONTAINERD_ADDRESS;
      delete environment.MINI_CTR;
      delete environment.MINI_CONTAINERD;
      const result = await new Deno.Command("bash", {
        args: [join(REPO_ROOT, "examples/lab/01-overlay.sh")],
        env: environment,
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const output = new TextDecoder().decode(result.stdout);
      const errors = new TextDecoder().decode(result.stderr);
      assertEquals(result.code, 0, `lab failed:\n${output}\n${errors}`);

      // Part 1, from the output: every step printed with its result.
      assertStringIncludes(
        output,
        "$ mount -t overlay overlay -o lowerdir=lower1:lower2,upperdir=upper,workdir=work merged",
      );
      assertStringIncludes(output, "$ ls merged\n  a\n  b\n  c\n");
      assertStringIncludes(output, "$ cat upper/a\n  hello\n");
      assertStringIncludes(output, "$ wc -c < lower1/a\n  0\n");
      assertStringIncludes(output, "$ ls upper\n  a\n  c\n  d\n");
      assertMatch(output, /\$ ls -l upper\/b\n {2}c--------- \d+ root root 0, 0 /);

      // Part 1, from the files: the upper layer kept the changes after unmount.
      const plain = join(lab, "plain");
      assertEquals(await Deno.readTextFile(join(plain, "upper/a")), "hello\n");
      assertEquals((await Deno.readFile(join(plain, "lower1/a"))).length, 0);
      assertEquals(await listNames(join(plain, "upper")), ["a", "b", "c", "d"]);
      const whiteout = await Deno.lstat(join(plain, "upper/b"));
      assert(whiteout.isCharDevice && whiteout.rdev === 0, "b is a 0/0 whiteout device");
      assertEquals(await listNames(join(plain, "lower2")), ["b"], "the lower layer still has b");
      assertEquals(await listNames(join(plain, "merged")), [], "merged is unmounted (empty)");

      // Part 2: snapshots, mounts, the overlay view, the diff.
      assertMatch(output, /mount -t bind \S+\/snapshots\/1\/fs \S+ -o rw,rbind/);
      assertMatch(output, /lowerdir=\S+\/snapshots\/2\/fs:\S+\/snapshots\/1\/fs/);
      assertMatch(output, /\$ ls \S+snapshot-mount\n {2}a\n {2}b\n {2}c\n/);
      assertMatch(
        output,
        /KEY +PARENT +KIND\n +lower1 +Committed\n +lower2 +lower1 +Committed\n +upper +lower2 +Active/,
      );
      assertStringIncludes(output, "   lower1\n    \\_ lower2\n      \\_ upper\n");
      const digest = output.match(/\$ ctr snapshots diff upper\n {2}(sha256:[0-9a-f]{64})/)?.[1];
      assert(digest, "the diff printed a digest");
      const listing = output.slice(output.indexOf(`content get ${digest}`));
      assertMatch(listing, / a\n/);
      assertMatch(listing, / \.wh\.b\n/);
      assertMatch(listing, / c\n/);
      assertMatch(listing, / d\n/);

      const snapshots = join(
        lab,
        "containerd/root/io.containerd.snapshotter.v1.overlayfs/snapshots",
      );
      assertEquals(await Deno.readTextFile(join(snapshots, "3/fs/a")), "hello\n");
      assertEquals((await Deno.readFile(join(snapshots, "1/fs/a"))).length, 0);
      assertEquals(await listNames(join(snapshots, "3/fs")), ["a", "b", "c", "d"]);
      assertStringIncludes(output, "overlay lab done");
    } finally {
      assertNoMountsUnder(lab);
      await Deno.remove(lab, { recursive: true });
    }
  },
});
