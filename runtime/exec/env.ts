// The buffer environment of one rank: named tensors (activations, gradients, weights) plus the int32
// token/target inputs. Reading an undefined buffer is a plan bug and names the step that asked.
import * as tf from "@tensorflow/tfjs-core";

export class ExecError extends Error {
  override name = "ExecError";
}

/** An empty buffer: what a send_recv that received nothing yields (consumers treat it as zeros). */
export function empty(): tf.Tensor {
  return tf.tensor1d([], "float32");
}

export function isEmpty(t: tf.Tensor): boolean {
  return t.size === 0;
}

export class Env {
  private readonly tensors = new Map<string, tf.Tensor>();
  private readonly ints = new Map<string, Int32Array>();
  /** buffers that must never be disposed by a free list (weights, inputs) */
  private readonly pinned = new Set<string>();

  constructor(private readonly where: () => string) {}

  get(name: string): tf.Tensor {
    const t = this.tensors.get(name);
    if (t === undefined) throw new ExecError(`${this.where()}: buffer '${name}' is not defined`);
    return t;
  }

  has(name: string): boolean {
    return this.tensors.has(name) || this.ints.has(name);
  }

  getInts(name: string): Int32Array {
    const t = this.ints.get(name);
    if (t === undefined) throw new ExecError(`${this.where()}: int buffer '${name}' is not defined`);
    return t;
  }

  set(name: string, t: tf.Tensor): void {
    const old = this.tensors.get(name);
    if (old !== undefined && old !== t && !this.pinned.has(name)) old.dispose();
    this.tensors.set(name, t);
  }

  setInts(name: string, v: Int32Array): void {
    this.ints.set(name, v);
  }

  pin(name: string, t: tf.Tensor): void {
    this.pinned.add(name);
    this.tensors.set(name, t);
  }

  /** Replaces a pinned tensor (a weight after an optimizer step); the old one is disposed. */
  replacePinned(name: string, t: tf.Tensor): void {
    const old = this.tensors.get(name);
    if (old !== undefined && old !== t) old.dispose();
    this.pinned.add(name);
    this.tensors.set(name, t);
  }

  free(name: string): void {
    if (this.pinned.has(name)) return;
    const t = this.tensors.get(name);
    if (t !== undefined) {
      t.dispose();
      this.tensors.delete(name);
    }
    this.ints.delete(name);
  }

  /** Disposes every non-pinned tensor (end of a step). */
  clearActivations(): void {
    for (const [name, t] of this.tensors) {
      if (this.pinned.has(name)) continue;
      t.dispose();
      this.tensors.delete(name);
    }
    this.ints.clear();
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }
}
