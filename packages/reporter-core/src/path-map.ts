/**
 * A tree keyed by strings, one level per part of a path: how adapters find a test's state from the parts a
 * runner hands them (project, file, titles) without building a key string at every hook. Titles may hold
 * any character (NUL included), so a joined key needs JSON or escaping — a few hundred nanoseconds and
 * garbage per lookup, several lookups per test. Walking the tree costs one Map lookup per part and
 * allocates nothing once the path exists.
 */
export class PathNode<V> {
  /** The value stored at this path, if any. */
  value: V | undefined;
  private children: Map<string, PathNode<V>> | undefined;

  /** The node one part further down, made if missing. */
  child(part: string): PathNode<V> {
    this.children ??= new Map();
    let node = this.children.get(part);
    if (node === undefined) {
      node = new PathNode<V>();
      this.children.set(part, node);
    }
    return node;
  }

  /** Forgets the node one part further down (and all below it), if any. */
  drop(part: string): void {
    this.children?.delete(part);
  }

  /** The node at the end of `parts`, from this one, made as needed. */
  path(parts: readonly string[]): PathNode<V> {
    let node: PathNode<V> = this;
    for (const part of parts) node = node.child(part);
    return node;
  }
}
