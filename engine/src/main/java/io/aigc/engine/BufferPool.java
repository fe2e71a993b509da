package io.aigc.engine;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;

/**
 * Direct buffers for tensors, reused instead of allocated per decode step.
 *
 * <p>ONNX Runtime reads and writes direct buffers in place (no copy between Java and native memory), and the
 * worker asks it to write each step's outputs into buffers it owns (pinned outputs), so the cache of one step is
 * passed to the next without a copy. Allocating a direct buffer is slow (it is zeroed) and it is freed only when
 * the garbage collector gets to it, so they are pooled by power-of-two size class: a cache that grows by one
 * token per step fits the buffer it had two steps earlier.
 *
 * <p>Confined to the engine thread.
 */
final class BufferPool {
  private static final int MIN_CLASS = 12; // 4 KiB
  private final ArrayDeque<ByteBuffer>[] free;
  private final long maxPooledBytes;
  private long pooledBytes;
  private long inUseBytes;

  @SuppressWarnings("unchecked")
  BufferPool(long maxPooledBytes) {
    this.free = new ArrayDeque[32];
    for (int i = 0; i < free.length; i++) {
      free[i] = new ArrayDeque<>();
    }
    this.maxPooledBytes = maxPooledBytes;
  }

  /** A native-order buffer with position 0 and limit {@code bytes}; its content is unspecified. */
  ByteBuffer acquire(long bytes) {
    if (bytes > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("tensor of " + bytes + " bytes exceeds 2 GiB");
    }
    if (bytes > 1 << 30) {
      // Larger than the biggest size class: not pooled.
      ByteBuffer exact = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder());
      inUseBytes += exact.capacity();
      return exact;
    }
    int sizeClass = sizeClass((int) bytes);
    ByteBuffer buffer = free[sizeClass].poll();
    if (buffer != null) {
      pooledBytes -= buffer.capacity();
    } else {
      buffer = ByteBuffer.allocateDirect(1 << sizeClass).order(ByteOrder.nativeOrder());
    }
    inUseBytes += buffer.capacity();
    buffer.clear().limit((int) bytes);
    return buffer;
  }

  void release(ByteBuffer buffer) {
    inUseBytes -= buffer.capacity();
    boolean pooledSize = Integer.bitCount(buffer.capacity()) == 1 && buffer.capacity() <= 1 << 30;
    if (pooledSize && pooledBytes + buffer.capacity() <= maxPooledBytes) {
      free[Integer.numberOfTrailingZeros(buffer.capacity())].push(buffer);
      pooledBytes += buffer.capacity();
    }
  }

  /** Bytes of buffers handed out and not yet released. */
  long inUseBytes() {
    return inUseBytes;
  }

  /** Bytes of buffers kept for reuse. */
  long pooledBytes() {
    return pooledBytes;
  }

  private static int sizeClass(int bytes) {
    int needed = Math.max(bytes, 1 << MIN_CLASS);
    return 32 - Integer.numberOfLeadingZeros(needed - 1);
  }
}
