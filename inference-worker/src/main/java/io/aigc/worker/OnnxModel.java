package io.aigc.worker;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.platform.Fp16Conversions;
import io.aigc.runtime.model.ModelDirectory;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ONNX Runtime session of a decoder in the Optimum layout, and the single operation the worker needs from it:
 * a forward pass over a {@link KvBlock}.
 *
 * <p>Inputs and outputs live in direct buffers the worker owns: ONNX Runtime reads the inputs in place and writes
 * the outputs (logits and the grown cache) into buffers passed as pinned outputs, so on CPU no tensor is copied
 * between Java and native memory. On CUDA each run still copies inputs to the device and outputs back, since the
 * Java API has no IOBinding (see the README).
 *
 * <p>Not thread-safe: one engine thread drives it.
 */
public final class OnnxModel implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(OnnxModel.class);

  /** Where the model runs. */
  public enum Device { CPU, CUDA }

  private final OrtEnvironment env;
  private final OrtSession session;
  private final ModelSpec spec;
  private final BufferPool pool;
  private final String deviceDescription;

  private OnnxModel(OrtEnvironment env, OrtSession session, ModelSpec spec, BufferPool pool, String device) {
    this.env = env;
    this.session = session;
    this.spec = spec;
    this.pool = pool;
    this.deviceDescription = device;
  }

  /**
   * Loads {@code model.onnx}. With {@link Device#CUDA} it asks for the CUDA execution provider and, when this
   * ONNX Runtime build or machine cannot provide it, falls back to CPU with one log line saying why.
   */
  public static OnnxModel load(ModelDirectory dir, Device device, int cudaDeviceId, int intraOpThreads,
      long maxPooledBytes) throws OrtException {
    return load(dir, device, cudaDeviceId, intraOpThreads, false, maxPooledBytes);
  }

  /** {@link #load} with ONNX Runtime's threads spinning between runs or not (see {@code AIGC_ORT_SPINNING}). */
  public static OnnxModel load(ModelDirectory dir, Device device, int cudaDeviceId, int intraOpThreads,
      boolean spinning, long maxPooledBytes) throws OrtException {
    // Creating a session optimises the graph recursively, which overflows the 1 MiB stack of a default Java
    // thread (the JVM then dies of SIGSEGV, with no Java exception). Do it on a thread with room.
    AtomicReference<Object> result = new AtomicReference<>();
    Thread loader = new Thread(null, () -> {
      try {
        result.set(loadHere(dir, device, cudaDeviceId, intraOpThreads, spinning, maxPooledBytes));
      } catch (OrtException | RuntimeException | Error e) {
        result.set(e);
      }
    }, "onnx-session-load", LARGE_STACK_BYTES);
    loader.start();
    try {
      loader.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while loading " + dir, e);
    }
    Object loaded = result.get();
    if (loaded instanceof OrtException e) {
      throw e;
    } else if (loaded instanceof RuntimeException e) {
      throw e;
    } else if (loaded instanceof Error e) {
      throw e;
    }
    return (OnnxModel) loaded;
  }

  /** Stack size for threads that call into ONNX Runtime: session creation and the engine. */
  static final long LARGE_STACK_BYTES = 64L << 20;

  private static OnnxModel loadHere(ModelDirectory dir, Device device, int cudaDeviceId, int intraOpThreads,
      boolean spinning, long maxPooledBytes) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    String description = "cpu";
    OrtSession session = null;
    if (device == Device.CUDA) {
      String unavailable = cudaUnavailableReason();
      if (unavailable == null) {
        try (OrtSession.SessionOptions options = options(intraOpThreads, spinning)) {
          options.addCUDA(cudaDeviceId);
          session = env.createSession(dir.onnxFile().toString(), options);
          description = "cuda:" + cudaDeviceId;
        } catch (OrtException | UnsatisfiedLinkError | IllegalArgumentException e) {
          unavailable = e.getMessage();
        }
      }
      if (session == null) {
        log.warn("CUDA was requested but is unavailable ({}); running {} on CPU", unavailable, dir.name());
      }
    }
    if (session == null) {
      try (OrtSession.SessionOptions options = options(intraOpThreads, spinning)) {
        session = env.createSession(dir.onnxFile().toString(), options);
      }
    }
    try {
      ModelSpec spec = ModelSpec.read(session.getInputInfo(), session.getOutputInfo(), dir);
      return new OnnxModel(env, session, spec, new BufferPool(maxPooledBytes), description);
    } catch (RuntimeException e) {
      session.close();
      throw e;
    }
  }

  /** Why the CUDA provider cannot be used here, or null if it can be tried. */
  static String cudaUnavailableReason() {
    if (!OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
      return "this ONNX Runtime build has no CUDA provider; build with -Pcuda";
    }
    return null;
  }

  private static OrtSession.SessionOptions options(int intraOpThreads, boolean spinning) throws OrtException {
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
    if (intraOpThreads > 0) {
      options.setIntraOpNumThreads(intraOpThreads);
    }
    if (!spinning) {
      // ONNX Runtime's threads otherwise spin after each run waiting for the next, taking CPU from the engine's own
      // thread and from whatever shares the machine (Kafka clients, other services): measured on 2 cores, 20% more
      // tokens per second without spinning.
      options.addConfigEntry("session.intra_op.allow_spinning", "0");
      options.addConfigEntry("session.inter_op.allow_spinning", "0");
    }
    return options;
  }

  public ModelSpec spec() {
    return spec;
  }

  /** "cpu" or "cuda:N": where the session really runs. */
  public String device() {
    return deviceDescription;
  }

  BufferPool pool() {
    return pool;
  }

  /** Bytes of direct memory held by tensors in use and by the pool. */
  long directBytes() {
    return pool.inUseBytes() + pool.pooledBytes();
  }

  /** The result of a forward pass: each row's next-token logits and the cache grown by the input tokens. */
  record Forward(float[][] logits, KvBlock present) {}

  /**
   * Feeds {@code tokens} (row-major, {@code rows × seqLen}, every token real) after the cache {@code past}.
   * Row {@code r}'s tokens take positions {@code past.rowLength(r) ...}. Without a position_ids input the model
   * numbers positions from {@code past.length()} for every row, so then all rows must have no padding.
   */
  Forward forward(int[] tokens, int seqLen, KvBlock past) throws OrtException {
    int[] real = new int[past.rows()];
    java.util.Arrays.fill(real, seqLen);
    return forward(tokens, seqLen, past, real);
  }

  /**
   * {@link #forward(int[], int, KvBlock)} where row {@code r}'s last {@code realTokens[r]} tokens are real and the
   * ones before are left padding: hidden by the attention mask, given position 0, and not counted in the row's
   * length. That lets prompts of different lengths be prefilled in one run; the last position of every row is real,
   * so its logits are the row's next-token logits. Padding needs position_ids, and a row without a cache (a prefill):
   * the row's tokens then stay contiguous and right-aligned in the present.
   */
  Forward forward(int[] tokens, int seqLen, KvBlock past, int[] realTokens) throws OrtException {
    int rows = past.rows();
    int pastLength = past.length();
    int total = pastLength + seqLen;
    if (!spec.hasPositionIds()) {
      for (int r = 0; r < rows; r++) {
        if (past.rowLength(r) != pastLength || realTokens[r] != seqLen) {
          throw new IllegalStateException("a model without position_ids cannot run padded rows together");
        }
      }
    }
    long[] ids = new long[rows * seqLen];
    long[] positions = new long[rows * seqLen];
    long[] mask = new long[rows * total];
    for (int r = 0; r < rows; r++) {
      int real = past.rowLength(r);
      int pad = seqLen - realTokens[r];
      if (pad > 0 && real > 0) {
        // The row's cache must stay contiguous and right-aligned: padding goes before a first run only.
        throw new IllegalStateException("only a row without a cache can be padded");
      }
      for (int s = 0; s < seqLen; s++) {
        ids[r * seqLen + s] = tokens[r * seqLen + s];
        positions[r * seqLen + s] = s < pad ? 0 : real + s - pad;
      }
      for (int t = pastLength - real; t < pastLength; t++) {
        mask[r * total + t] = 1;
      }
      for (int t = pastLength + pad; t < total; t++) {
        mask[r * total + t] = 1;
      }
    }

    int[] presentLengths = past.rowLengths();
    for (int r = 0; r < rows; r++) {
      presentLengths[r] += realTokens[r];
    }
    KvBlock present = KvBlock.forOutput(spec, pool, rows, total, presentLengths);
    long logitsBytes = (long) rows * seqLen * spec.vocabSize() * (spec.logitsType() == OnnxJavaType.FLOAT ? 4 : 2);
    ByteBuffer logitsBuffer = pool.acquire(logitsBytes);
    List<OnnxTensor> owned = new ArrayList<>();
    List<ByteBuffer> borrowed = new ArrayList<>();
    borrowed.add(logitsBuffer);
    try {
      Map<String, OnnxTensor> inputs = new HashMap<>();
      inputs.put(ModelSpec.INPUT_IDS, integers(ids, new long[] {rows, seqLen}, spec.inputIdsType(), owned, borrowed));
      inputs.put(ModelSpec.ATTENTION_MASK, integers(mask, new long[] {rows, total}, spec.maskType(), owned, borrowed));
      if (spec.hasPositionIds()) {
        inputs.put(ModelSpec.POSITION_IDS, integers(positions, new long[] {rows, seqLen}, OnnxJavaType.INT64, owned, borrowed));
      }
      Map<String, OnnxTensor> outputs = new HashMap<>();
      outputs.put(ModelSpec.LOGITS, wrap(logitsBuffer, new long[] {rows, seqLen, spec.vocabSize()},
          spec.logitsType(), owned));
      long[] pastShape = {rows, spec.kvHeads(), pastLength, spec.headDim()};
      long[] presentShape = {rows, spec.kvHeads(), total, spec.headDim()};
      for (int layer = 0; layer < spec.layers(); layer++) {
        inputs.put(ModelSpec.pastKey(layer), wrap(past.tensor(layer, false), pastShape, spec.kvType(), owned));
        inputs.put(ModelSpec.pastValue(layer), wrap(past.tensor(layer, true), pastShape, spec.kvType(), owned));
        outputs.put(ModelSpec.presentKey(layer), wrap(present.tensor(layer, false), presentShape, spec.kvType(), owned));
        outputs.put(ModelSpec.presentValue(layer), wrap(present.tensor(layer, true), presentShape, spec.kvType(), owned));
      }
      // The pinned outputs are ours: the result owns nothing, so closing it frees nothing we still need.
      session.run(inputs, outputs).close();
      return new Forward(lastPositionLogits(logitsBuffer, rows, seqLen), present);
    } catch (OrtException | RuntimeException e) {
      present.close();
      throw e;
    } finally {
      for (OnnxTensor t : owned) {
        t.close();
      }
      borrowed.forEach(pool::release);
    }
  }

  private float[][] lastPositionLogits(ByteBuffer buffer, int rows, int seqLen) {
    int vocab = spec.vocabSize();
    float[][] out = new float[rows][vocab];
    for (int r = 0; r < rows; r++) {
      int offset = (r * seqLen + seqLen - 1) * vocab;
      if (spec.logitsType() == OnnxJavaType.FLOAT) {
        FloatBuffer floats = buffer.asFloatBuffer();
        floats.get(offset, out[r], 0, vocab);
      } else {
        ShortBuffer halves = buffer.asShortBuffer();
        boolean bf16 = spec.logitsType() == OnnxJavaType.BFLOAT16;
        for (int v = 0; v < vocab; v++) {
          short h = halves.get(offset + v);
          out[r][v] = bf16 ? Fp16Conversions.bf16ToFloat(h) : Fp16Conversions.fp16ToFloat(h);
        }
      }
    }
    return out;
  }

  private OnnxTensor integers(long[] values, long[] shape, OnnxJavaType type, List<OnnxTensor> owned,
      List<ByteBuffer> borrowed) throws OrtException {
    boolean wide = type == OnnxJavaType.INT64;
    ByteBuffer buffer = pool.acquire((long) values.length * (wide ? 8 : 4));
    borrowed.add(buffer);
    if (wide) {
      buffer.asLongBuffer().put(values);
    } else {
      for (int i = 0; i < values.length; i++) {
        buffer.putInt(i * 4, (int) values[i]);
      }
    }
    return wrap(buffer, shape, type, owned);
  }

  private OnnxTensor wrap(ByteBuffer buffer, long[] shape, OnnxJavaType type, List<OnnxTensor> owned)
      throws OrtException {
    // A zero-offset view with exactly the tensor's bytes: ONNX Runtime uses a direct buffer in place.
    ByteBuffer view = buffer.duplicate().order(buffer.order());
    view.position(0);
    OnnxTensor tensor = OnnxTensor.createTensor(env, view, shape, type);
    owned.add(tensor);
    return tensor;
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      log.warn("closing the ONNX session failed", e);
    }
  }
}
