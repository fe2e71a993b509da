package io.aigc.engine;

/** Why the engine ended a request without a result, in its own terms; the worker maps these to the contract's codes. */
public enum Failure {
  /** The caller cancelled it, waiting or running. */
  CANCELLED,
  /** Its deadline passed before or while it was generated. */
  DEADLINE_EXCEEDED,
  /**
   * It can never run here: it needs more KV cache or batch rows than this engine has, its prompt fills the context,
   * or its logit_bias names a token outside the vocabulary.
   */
  DOES_NOT_FIT,
  /** The model failed on it (an ONNX Runtime error, or a bug in a step). */
  MODEL_FAILED
}
