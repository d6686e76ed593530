// What this teaches: mini's image builder is Docker's legacy builder (`DOCKER_BUILDKIT=0
// docker build`). A Dockerfile becomes one image per instruction: RUN steps run in real
// containers whose upper dir becomes the layer, COPY/ADD write into a fresh layer,
// everything else only changes the config (an `empty_layer` history entry). Each step's
// image is kept as the local parent of the next, and that parent link is the cache.
// Mirrors moby's builder/dockerfile (builder.go, dispatchers.go, internals.go, imageprobe.go).
//
// The HTTP face is `POST /build` in lib/dockerd/routes/build.ts:
//   POST /build?t=web:v1&t=web:latest&dockerfile=Dockerfile&buildargs={"V":"1"}
//        &nocache=1&pull=1&q=1&target=stage&rm=1&forcerm=1&labels={"k":"v"}
//   body: the context as a tar (Content-Type application/x-tar, may be chunked)
//   answer: 200 NDJSON, one JSON message per line:
//     {"stream":"Step 1/5 : FROM busybox"} {"stream":"\n"} {"stream":" ---> 74eee1d3762b\n"}
//     {"stream":" ---> Running in 0b3f064d72df\n"}  (RUN output as {"stream": ...})
//     {"stream":"Removing intermediate container 0b3f064d72df\n"}  {"stream":" ---> Using cache\n"}
//     {"aux":{"ID":"sha256:..."}} {"stream":"Successfully built f3c9193e562a\n"}
//     {"stream":"Successfully tagged web:v1\n"}
//   failure: {"errorDetail":{"code":3,"message":"The command '/bin/sh -c exit 3' returned a
//     non-zero code: 3"},"error":"..."} (code only for RUN exits); q=1: only
//     {"stream":"sha256:<64 hex>\n"} (or the error).
//   SOURCE_DATE_EPOCH as a build arg makes the build reproducible (clamped times).
//
// From code in the same process: `buildImage(host, contextTar, options, output)`.
export * from "./types.ts";
export { buildOptionsFromQuery } from "./options.ts";
export { parseDockerfile } from "./dockerfile.ts";
export { expandVariables, expandWords } from "./shell_words.ts";
export { type BuildContext, extractContext } from "./context.ts";
export { ExcludeMatcher, parseDockerignore } from "./dockerignore.ts";
export { type BuildHost, buildImage } from "./builder.ts";
export { CollectingBuildOutput, NdjsonBuildOutput } from "./progress.ts";
