#!/usr/bin/env -S node --
// minidock-runc: runc's command line over minidock's runtime core (src/oci/cli.ts), for OCI
// engines (podman --runtime, containerd, the runtime-tools suite). All logic lives in src/oci;
// `npm run build:bundle` bundles it into dist/bundle/minidock-runc.js.
import '../dist/bundle/minidock-runc.js';
