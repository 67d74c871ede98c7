#!/usr/bin/env -S node --
// minidock-cni: minidock's network as a CNI plugin (src/cni), for any CNI runtime (cnitool,
// podman's CNI backend, containerd). Install it on the runtime's CNI_PATH under the name its
// configs' "type" says: `ln -s $PWD/bin/minidock-cni.js /opt/cni/bin/minidock`. `npm run
// build:bundle` bundles it into dist/bundle/minidock-cni.js.
import '../dist/bundle/minidock-cni.js';
