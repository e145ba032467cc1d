/**
 * `compute(key)`, worked out once per key object and kept as long as the key is: for what a decision reads that
 * depends only on the policy or the cluster snapshot, which live across many requests.
 */
export function memoByObject<K extends object, V>(compute: (key: K) => V): (key: K) => V {
  const memo = new WeakMap<K, V>();
  return (key) => {
    if (memo.has(key)) return memo.get(key)!;
    const value = compute(key);
    memo.set(key, value);
    return value;
  };
}
