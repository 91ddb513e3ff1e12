// cluster-key-slot (the slot function ioredis's Cluster routes with) ships no types.
declare module "cluster-key-slot" {
  /** The Redis Cluster hash slot (0..16383) of a key or channel, hash tags included. */
  function calculateSlot(key: string | Buffer): number;
  export default calculateSlot;
}
