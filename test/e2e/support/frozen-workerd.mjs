#!/usr/bin/env node
// A workerd that listens and answers nothing, as one did after a kill -9 restart (issue 12
// #11), for testing npm start's readiness check: Miniflare runs this instead of workerd
// (MINIFLARE_WORKERD_PATH); it runs the real workerd ($REAL_WORKERD) with the same arguments
// and descriptors (the config on stdin, the control pipe on fd 3) and stops it with SIGSTOP as
// soon as its entry socket accepts a connection.
import { spawn } from "node:child_process";
import net from "node:net";

const args = process.argv.slice(2);
const entry = args.map((arg) => /^--socket-addr=entry=(.+):(\d+)$/.exec(arg)).find(Boolean);
const child = spawn(process.env.REAL_WORKERD, args, { stdio: [0, 1, 2, 3] });
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

function accepts() {
  return new Promise((resolve) => {
    const socket = net.connect({ host: entry[1], port: Number(entry[2]) }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

if (entry) {
  while (!(await accepts())) await new Promise((resolve) => setTimeout(resolve, 20));
  process.kill(child.pid, "SIGSTOP");
}
