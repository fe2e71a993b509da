package io.aigc.engine;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.platform.Fp16Conversions;
import io.aigc.model.ModelDirectory;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ONNX Runtime session of a decoder in the Optimum layout, and the single operation the engine needs from it:
 * a forward pass over a {@link KvBlock}.
 *
 * <p>Inputs and outputs live in direct buffers the engine owns: ONNX Runtime reads the inputs in place and writes
 * the outputs (logits and the grown cache) into buffers passed as pinned outputs, so on CPU no tensor is copied
 * between Java and native memory. On CUDA each run still copies inputs to the device and outputs back, since the
 * Java API has no IOBinding (see the README).
 *
 * <p>Not thread-safe: one engine thread drives it.
 */
public final class OnnxModel implements DecoderModel {
  private static final Logger log = LoggerFactory.getLogger(OnnxModel.class);
  /** Stack size for threads that call into ONNX Runtime: session creation and the engine. */
  static final long LARGE_STACK_BYTES = 64L << 20;

  /** Where the model runs. */
  public enum Device { CPU, CUDA }

  /**
   * How a session is opened.
   *
   * @param device where to run; CUDA falls back to CPU, with one log line saying why, where it is unavailable
   * @param cudaDevice which GPU
   * @param intraOpThreads ONNX Runtime's intra-op threads; 0 is one per core
   * @param spinning let those threads spin between runs (worth it only where the cores are the engine's alone)
   * @param maxPooledBytes direct memory kept for reuse between steps (see {@link BufferPool})
   */
  public record SessionSettings(Device device, int cudaDevice, int intraOpThreads, boolean spinning,
      long maxPooledBytes) {
    /** CPU, one thread per core, no spinning, a 1 GiB pool. */
    public static SessionSettings cpu() {
      return new SessionSettings(Device.CPU, 0, 0, false, 1L << 30);
    }

    public SessionSettings withDevice(Device device, int cudaDevice) {
      return new SessionSettings(device, cudaDevice, intraOpThreads, spinning, maxPooledBytes);
    }

    public SessionSettings withThreads(int intraOpThreads, boolean spinning) {
      return new SessionSettings(device, cudaDevice, intraOpThreads, spinning, maxPooledBytes);
    }

    public SessionSettings withPooledBytes(long maxPooledBytes) {
      return new SessionSettings(device, cudaDevice, intraOpThreads, spinning, maxPooledBytes);
    }
  }

  private final OrtEnvironment env;
  private final OrtSession session;
  private final OnnxGraph graph;
  private final BufferPool pool;
  private final String deviceDescription;

  private OnnxModel(OrtEnvironment env, OrtSession session, OnnxGraph graph, BufferPool pool, String device) {
    this.env = env;
    this.session = session;
    this.graph = graph;
    this.pool = pool;
    this.deviceDescription = device;
  }

  /**
   * Opens {@code model.onnx} of {@code dir}. Fails with an {@link IllegalArgumentException} naming the problem when
   * the graph is not a decoder this engine can drive, and with an {@link OrtException} when ONNX Runtime cannot load
   * it.
   */
  public static OnnxModel open(ModelDirectory dir, SessionSettings settings) throws OrtException {
    // Creating a session optimises the graph recursively, which overflows the 1 MiB stack of a default Java
    // thread (the JVM then dies of SIGSEGV, with no Java exception). Do it on a thread with room.
    FutureTask<OnnxModel> load = new FutureTask<>(() -> openHere(dir, settings));
    new Thread(null, load, "onnx-session-load", LARGE_STACK_BYTES).start();
    try {
      return load.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while loading " + dir, e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof OrtException ort) {
        throw ort;
      } else if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      } else if (e.getCause() instanceof Error error) {
        throw error;
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  private static OnnxModel openHere(ModelDirectory dir, SessionSettings settings) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    String description = "cpu";
    OrtSession session = null;
    if (settings.device() == Device.CUDA) {
      String unavailable = cudaUnavailableReason();
      if (unavailable == null) {
        try (OrtSession.SessionOptions options = options(settings)) {
          options.addCUDA(settings.cudaDevice());
          session = env.createSession(dir.onnxFile().toString(), options);
          description = "cuda:" + settings.cudaDevice();
        } catch (OrtException | UnsatisfiedLinkError | IllegalArgumentException e) {
          unavailable = e.getMessage();
        }
      }
      if (session == null) {
        log.warn("CUDA was requested but is unavailable ({}); running {} on CPU", unavailable, dir.name());
      }
    }
    if (session == null) {
      try (OrtSession.SessionOptions options = options(settings)) {
        session = env.createSession(dir.onnxFile().toString(), options);
      }
    }
    try {
      OnnxGraph graph = OnnxGraph.read(session.getInputInfo(), session.getOutputInfo(), dir);
      return new OnnxModel(env, session, graph, new BufferPool(settings.maxPooledBytes()), description);
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

  private static OrtSession.SessionOptions options(SessionSettings settings) throws OrtException {
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
    if (settings.intraOpThreads() > 0) {
      options.setIntraOpNumThreads(settings.intraOpThreads());
    }
    if (!settings.spinning()) {
      // ONNX Runtime's threads otherwise spin after each run waiting for the next, taking CPU from the engine's own
      // thread and from whatever shares the machine (Kafka clients, other services): measured on 2 cores, 20% more
      // tokens per second without spinning.
      options.addConfigEntry("session.intra_op.allow_spinning", "0");
      options.addConfigEntry("session.inter_op.allow_spinning", "0");
    }
    return options;
  }

  @Override
  public ModelSpec spec() {
    return graph.spec();
  }

  /** "cpu" or "cuda:N": where the session really runs. */
  @Override
  public String device() {
    return deviceDescription;
  }

  @Override
  public BufferPool pool() {
    return pool;
  }

  OnnxGraph graph() {
    return graph;
  }

  /** Bytes of direct memory held by tensors in use and by the pool. */
  public long directBytes() {
    return pool.inUseBytes() + pool.pooledBytes();
  }

  /**
   * Padded rows take position 0 for their padding, and every row's last position is real, so its logits are the
   * row's next-token logits.
   */
  @Override
  public Forward forward(int[] tokens, int seqLen, KvBlock past, int[] realTokens) throws ModelException {
    try {
      return run(tokens, seqLen, past, realTokens);
    } catch (OrtException e) {
      throw new ModelException(e.getMessage(), e);
    }
  }

  private Forward run(int[] tokens, int seqLen, KvBlock past, int[] realTokens) throws OrtException {
    ModelSpec spec = graph.spec();
    int rows = past.rows;
    int pastLength = past.length;
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
    long logitsBytes = (long) rows * seqLen * spec.vocabSize() * (graph.logitsType() == OnnxJavaType.FLOAT ? 4 : 2);
    ByteBuffer logitsBuffer = pool.acquire(logitsBytes);
    List<OnnxTensor> owned = new ArrayList<>();
    List<ByteBuffer> borrowed = new ArrayList<>();
    borrowed.add(logitsBuffer);
    try {
      Map<String, OnnxTensor> inputs = new HashMap<>();
      inputs.put(OnnxGraph.INPUT_IDS, integers(ids, new long[] {rows, seqLen}, graph.inputIdsType(), owned, borrowed));
      inputs.put(OnnxGraph.ATTENTION_MASK, integers(mask, new long[] {rows, total}, graph.maskType(), owned, borrowed));
      if (spec.hasPositionIds()) {
        inputs.put(OnnxGraph.POSITION_IDS, integers(positions, new long[] {rows, seqLen}, OnnxJavaType.INT64, owned, borrowed));
      }
      Map<String, OnnxTensor> outputs = new HashMap<>();
      outputs.put(OnnxGraph.LOGITS, wrap(logitsBuffer, new long[] {rows, seqLen, spec.vocabSize()},
          graph.logitsType(), owned));
      long[] pastShape = {rows, spec.kvHeads(), pastLength, spec.headDim()};
      long[] presentShape = {rows, spec.kvHeads(), total, spec.headDim()};
      for (int layer = 0; layer < spec.layers(); layer++) {
        inputs.put(OnnxGraph.pastKey(layer), wrap(past.tensor(layer, false), pastShape, graph.kvType(), owned));
        inputs.put(OnnxGraph.pastValue(layer), wrap(past.tensor(layer, true), pastShape, graph.kvType(), owned));
        outputs.put(OnnxGraph.presentKey(layer), wrap(present.tensor(layer, false), presentShape, graph.kvType(), owned));
        outputs.put(OnnxGraph.presentValue(layer), wrap(present.tensor(layer, true), presentShape, graph.kvType(), owned));
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
    int vocab = graph.spec().vocabSize();
    float[][] out = new float[rows][vocab];
    for (int r = 0; r < rows; r++) {
      int offset = (r * seqLen + seqLen - 1) * vocab;
      if (graph.logitsType() == OnnxJavaType.FLOAT) {
        FloatBuffer floats = buffer.asFloatBuffer();
        floats.get(offset, out[r], 0, vocab);
      } else {
        ShortBuffer halves = buffer.asShortBuffer();
        boolean bf16 = graph.logitsType() == OnnxJavaType.BFLOAT16;
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
