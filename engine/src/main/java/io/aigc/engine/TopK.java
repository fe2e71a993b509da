package io.aigc.engine;

/**
 * Keeps the k most likely tokens, exactly k: of tokens with equal logits the lower ids are kept, so the set never
 * depends on chance. One pass with a heap of k keys finds the k-th, not a sort of the vocabulary.
 */
record TopK(int k, Sampler.Scratch scratch) implements LogitsProcessor {
  @Override
  public void apply(float[] logits, TokenHistory history) {
    if (k >= logits.length) {
      return; // keeps everything; and a huge k must not size the heap
    }
    long[] heap = scratch.keys(k); // a max-heap of the k smallest keys seen so far
    int size = 0;
    for (int i = 0; i < logits.length; i++) {
      if (logits[i] == Float.NEGATIVE_INFINITY) {
        continue;
      }
      long key = ByLogit.key(logits[i], i);
      if (size < k) {
        heap[size] = key;
        siftUp(heap, size++);
      } else if (key < heap[0]) {
        heap[0] = key;
        siftDown(heap, k);
      }
    }
    if (size < k) {
      return; // no more than k candidates left
    }
    long kth = heap[0];
    for (int i = 0; i < logits.length; i++) {
      if (logits[i] != Float.NEGATIVE_INFINITY && ByLogit.key(logits[i], i) > kth) {
        logits[i] = Float.NEGATIVE_INFINITY;
      }
    }
  }

  private static void siftUp(long[] heap, int i) {
    while (i > 0) {
      int parent = (i - 1) / 2;
      if (heap[parent] >= heap[i]) {
        return;
      }
      swap(heap, parent, i);
      i = parent;
    }
  }

  private static void siftDown(long[] heap, int size) {
    int i = 0;
    while (true) {
      int largest = i;
      int left = 2 * i + 1;
      int right = left + 1;
      if (left < size && heap[left] > heap[largest]) {
        largest = left;
      }
      if (right < size && heap[right] > heap[largest]) {
        largest = right;
      }
      if (largest == i) {
        return;
      }
      swap(heap, i, largest);
      i = largest;
    }
  }

  private static void swap(long[] heap, int a, int b) {
    long t = heap[a];
    heap[a] = heap[b];
    heap[b] = t;
  }
}
