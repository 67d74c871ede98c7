#!/usr/bin/env -S node --
// minidock-cni: minidock's network as a CNI plugin (src/cni), for any CNI runtime (cnitool,
// podman's CNI backend, containerd). Install bin/minidock-cni (which starts node from the
// plugin's startup snapshot, and runs this file without one) on the runtime's CNI_PATH under
// the name its configs' "type" says: `ln -s $PWD/bin/minidock-cni /opt/cni/bin/minidock`.
// `npm run build:bundle` bundles the plugin into dist/bundle/minidock-cni.cjs.
import { createRequire } from 'node:module';

createRequire(import.meta.url)('../dist/bundle/minidock-cni.cjs');
