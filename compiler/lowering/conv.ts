// Lowering of the logical short causal conv: each rank needs the previous rank's last k-1 tokens (halo),
// one send/recv forward; backward sends the halo's gradient back and adds it onto the sender's tail.
import type { ConvNode, ConvBwdNode } from "../ir/graph.ts";
import { Lowerer, siteOf } from "./ctx.ts";

function haloParts(n: ConvNode | ConvBwdNode) {
  return [{ axis: 0, shape: [n.batch * (n.kernel - 1), n.channels] }];
}

/** Halo buffers are named after the conv output (forward and backward agree on them). */
const halo = (y: string) => `${y}.halo`;

export function lowerConvForward(L: Lowerer, n: ConvNode): void {
  const s = siteOf(n);
  const [x, w] = n.in as [string, string];
  const y = n.out[0]!;
  const attrs = { batch: n.batch, kernel: n.kernel, channels: n.channels };
  if (n.kernel > 1) {
    L.emit({ op: "tail", batch: n.batch, tokens: n.kernel - 1, in: [x], out: [`${y}.tail`], ...s });
    L.collective({ collective: "send_recv", group: "sp", parts: haloParts(n), sendTo: "next", recvFrom: "prev", hop: 1 }, [`${y}.tail`], [halo(y)], s);
    L.emit({ op: "short_conv", ...attrs, in: [x, halo(y), w], out: [y], ...s });
  } else {
    L.emit({ op: "short_conv", ...attrs, in: [x, w], out: [y], ...s });
  }
}

export function lowerConvBackward(L: Lowerer, n: ConvBwdNode, y: string): void {
  const s = siteOf(n);
  const [dy, x, w] = n.in as [string, string, string];
  const [dx, dw] = n.out as [string, string];
  const attrs = { batch: n.batch, kernel: n.kernel, channels: n.channels };
  if (n.kernel > 1) {
    const dxl = `${dx}.local`;
    L.emit({ op: "short_conv_bwd", ...attrs, in: [dy, x, halo(y), w], out: [dxl, `${halo(y)}.grad`, dw], ...s });
    L.collective({ collective: "send_recv", group: "sp", parts: haloParts(n), sendTo: "prev", recvFrom: "next", hop: 1 }, [`${halo(y)}.grad`], [`${halo(y)}.grad_in`], s);
    L.emit({ op: "tail_add", batch: n.batch, tokens: n.kernel - 1, in: [dxl, `${halo(y)}.grad_in`], out: [dx], ...s });
  } else {
    L.emit({ op: "short_conv_bwd", ...attrs, in: [dy, x, w], out: [dx, dw], ...s });
  }
}
