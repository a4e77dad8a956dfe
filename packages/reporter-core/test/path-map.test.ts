import { describe, expect, it } from 'vitest';
import { PathNode } from '../src/path-map.js';

describe('PathNode', () => {
  it('tells apart paths that a joined key would confuse', () => {
    const root = new PathNode<string>();
    root.path(['a\u0000b', 'c']).value = 'one';
    root.path(['a', 'b\u0000c']).value = 'two';
    root.path(['a', 'b', 'c']).value = 'three';
    root.path(['a']).value = 'four';
    expect(root.path(['a\u0000b', 'c']).value).toBe('one');
    expect(root.path(['a', 'b\u0000c']).value).toBe('two');
    expect(root.path(['a', 'b', 'c']).value).toBe('three');
    expect(root.child('a').value).toBe('four');
    expect(root.path(['a', 'b']).value).toBeUndefined();
  });

  it('returns the same node for the same path, made once', () => {
    const root = new PathNode<number>();
    root.child('file').path(['describe', 'test']).value = 1;
    const node = root.child('file').path(['describe', 'test']);
    expect(root.child('file').child('describe').child('test')).toBe(node);
    expect(root.path([])).toBe(root);
    expect(node.value).toBe(1);
  });
});
