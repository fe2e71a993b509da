package io.aigc.gateway;

import io.aigc.schemas.ErrorCodes;
import io.aigc.schemas.GenerationError;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * An error as the client sees it: an HTTP status and OpenAI's error object
 * ({@code {"error":{"message","type","param","code"}}}), plus the job id when the error concerns a job, so the
 * client can poll {@code GET /v1/jobs/{id}}. Handlers throw or fail with it; {@link FailureHandler} renders it.
 *
 * <p>Every status, type and code the gateway answers with is decided here: the table from the pipeline's error
 * codes ({@link ErrorCodes}) and the factories for the gateway's own errors.
 */
final class ApiError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  static final String INVALID_REQUEST = "invalid_request_error";
  static final String SERVER_ERROR = "server_error";
  static final String RATE_LIMIT = "rate_limit_error";
  /** Netty's defaults, set explicitly where the server is built so the messages below stay true. */
  static final int MAX_REQUEST_LINE_BYTES = 4096;
  static final int MAX_HEADER_BYTES = 8192;

  private record Rule(int status, String type) {}

  /**
   * How a failed completion's code becomes an HTTP error. The caller's mistakes are 400s, except an unknown model,
   * which OpenAI answers with 404 (the gateway checks the model name with 404 too, so a pipeline that disagrees
   * answers the same way); a deadline the pipeline could not meet is a 504; anything else is the server's fault.
   */
  private static final Map<String, Rule> PIPELINE_ERRORS = Map.of(
      ErrorCodes.CONTEXT_LENGTH_EXCEEDED, new Rule(400, INVALID_REQUEST),
      ErrorCodes.INVALID_REQUEST, new Rule(400, INVALID_REQUEST),
      ErrorCodes.MODEL_NOT_FOUND, new Rule(404, INVALID_REQUEST),
      ErrorCodes.DEADLINE_EXCEEDED, new Rule(504, SERVER_ERROR),
      ErrorCodes.CANCELLED, new Rule(409, INVALID_REQUEST),
      ErrorCodes.POISON_RECORD, new Rule(500, SERVER_ERROR),
      ErrorCodes.INTERNAL_ERROR, new Rule(500, SERVER_ERROR));
  private static final Rule UNKNOWN_PIPELINE_ERROR = new Rule(500, SERVER_ERROR);

  private final int status;
  private final String type;
  private final String param;
  private final String code;
  private final String jobId;
  private final Integer retryAfterSeconds;

  private ApiError(int status, String type, String param, String code, String message, String jobId,
      Integer retryAfterSeconds) {
    // Control flow, not a bug: no stack trace to fill.
    super(message, null, false, false);
    this.status = status;
    this.type = type;
    this.param = param;
    this.code = code;
    this.jobId = jobId;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** A 400 for a request that failed validation. */
  static ApiError invalid(String param, String code, String message) {
    return new ApiError(400, INVALID_REQUEST, param, code, message, null, null);
  }

  /** The error a failed completion stands for, per the table above. */
  static ApiError fromPipeline(String jobId, GenerationError error) {
    String code = error == null ? ErrorCodes.INTERNAL_ERROR : error.getCode();
    String message = error == null ? "The request failed without an error description." : error.getMessage();
    Rule rule = PIPELINE_ERRORS.getOrDefault(code, UNKNOWN_PIPELINE_ERROR);
    return new ApiError(rule.status(), rule.type(), null, code, message, jobId, null);
  }

  /** A model this gateway does not serve, named in a body or a path: 404, as from OpenAI. */
  static ApiError modelNotFound(String param, String message) {
    return new ApiError(404, INVALID_REQUEST, param, ErrorCodes.MODEL_NOT_FOUND, message, null, null);
  }

  /**
   * A streamed job that sent nothing for {@code idle}. The job is cancelled: unlike a synchronous timeout, nobody is
   * left to read its text as it comes.
   */
  static ApiError streamTimeout(String jobId, Duration idle) {
    return new ApiError(504, SERVER_ERROR, null, "stream_timeout", "The job produced no text for "
        + idle.toSeconds() + "s; it is cancelled.", jobId, null);
  }

  /** The stream and the job's completion disagree: what the client already read cannot be made right. */
  static ApiError streamDiverged(String jobId, int choice) {
    return new ApiError(500, SERVER_ERROR, null, ErrorCodes.INTERNAL_ERROR, "The text streamed for choice " + choice
        + " differs from the job's completion; GET /v1/jobs/" + jobId + " has the completion.", jobId, null);
  }

  /** This instance does not read its stream partition yet (the stream topic is missing): retry shortly. */
  static ApiError streamUnavailable() {
    return new ApiError(503, SERVER_ERROR, null, "service_unavailable",
        "Streaming is unavailable on this server right now (its stream topic cannot be read). Retry shortly, or "
            + "send \"stream\": false.", null, 1);
  }

  static ApiError syncTimeout(String jobId, Duration waited) {
    return new ApiError(504, SERVER_ERROR, null, "timeout",
        "No completion within " + waited.toSeconds() + "s. The job continues: poll GET /v1/jobs/" + jobId
            + " for its result.", jobId, null);
  }

  static ApiError missingApiKey() {
    return new ApiError(401, INVALID_REQUEST, null, "missing_api_key",
        "You didn't provide an API key. Send it in an Authorization header as 'Bearer YOUR_KEY'.", null, null);
  }

  /** A key that is not configured. The key is not repeated back: error bodies end up in logs too. */
  static ApiError invalidApiKey() {
    return new ApiError(401, INVALID_REQUEST, null, "invalid_api_key",
        "Incorrect API key provided. Check the key sent in the Authorization header.", null, null);
  }

  /** An Authorization header that does not carry exactly one bearer token. */
  static ApiError malformedAuthorization() {
    return new ApiError(401, INVALID_REQUEST, null, "invalid_api_key",
        "Incorrect API key provided: send exactly one Authorization header, as 'Bearer YOUR_KEY'.", null, null);
  }

  static ApiError rateLimited(double rate, int burst, int retryAfterSeconds) {
    return new ApiError(429, RATE_LIMIT, null, "rate_limit_exceeded",
        "Rate limit reached for this API key: " + rate + " requests per second on average, " + burst
            + " at once. Retry after " + retryAfterSeconds + "s.", null, retryAfterSeconds);
  }

  static ApiError backlogFull(long backlog, long limit, int retryAfterSeconds) {
    return new ApiError(429, RATE_LIMIT, null, "rate_limit_exceeded",
        "The pipeline is behind: " + backlog + " requests are waiting, more than this gateway queues (" + limit
            + "). Retry after " + retryAfterSeconds + "s.", null, retryAfterSeconds);
  }

  static ApiError unsupportedCharset(String charset) {
    return new ApiError(415, INVALID_REQUEST, null, "unsupported_media_type",
        "The request body must be JSON in UTF-8, but Content-Type declares charset '" + charset + "'.", null, null);
  }

  static ApiError tooManyInFlight(int limit) {
    return new ApiError(429, RATE_LIMIT, null, "rate_limit_exceeded",
        "This gateway is holding its maximum of " + limit + " requests in flight. Retry shortly.", null, 1);
  }

  /** The gateway that holds the files and batches ({@code AIGC_BATCH_GATEWAY_URL}) did not answer. */
  static ApiError batchGatewayUnreachable(Throwable cause) {
    return new ApiError(502, SERVER_ERROR, null, "bad_gateway", "The gateway that holds files and batches did not "
        + "answer (" + cause.getClass().getSimpleName() + "). Retry shortly.", null, 1);
  }

  static ApiError publishFailed(Throwable cause) {
    return new ApiError(503, SERVER_ERROR, null, "service_unavailable",
        "The request could not be queued (" + cause.getClass().getSimpleName() + "). Retry shortly.", null, 1);
  }

  static ApiError idempotencyConflict(String jobId) {
    return new ApiError(409, INVALID_REQUEST, "Idempotency-Key", "idempotency_key_reused",
        "This Idempotency-Key was already used with a different request body.", jobId, null);
  }

  static ApiError jobFinished(String jobId) {
    return new ApiError(409, INVALID_REQUEST, "id", "job_finished",
        "Job '" + jobId + "' has already finished; there is nothing to cancel.", jobId, null);
  }

  static ApiError jobNotFound(String jobId) {
    return new ApiError(404, INVALID_REQUEST, "id", "job_not_found", "No job with id '" + jobId + "'.", null, null);
  }

  /** A file or batch that does not exist, or that another API key created (answered alike, so it does not leak). */
  static ApiError notFound(String what, String id) {
    return new ApiError(404, INVALID_REQUEST, "id", "not_found", "No " + what + " with id '" + id + "'.", null, null);
  }

  /** A request that the state of what it names forbids (cancelling a finished batch, say). */
  static ApiError conflict(String code, String message) {
    return new ApiError(409, INVALID_REQUEST, null, code, message, null, null);
  }

  /** An error Vert.x-Web signalled by status code alone: no route, wrong method or content type, body too big. */
  static ApiError fromHttpStatus(int status, String method, String path, long maxBodyBytes) {
    return switch (status) {
      case 404 -> new ApiError(404, INVALID_REQUEST, null, "unknown_url",
          "Invalid URL (" + method + " " + path + ")", null, null);
      case 405 -> new ApiError(405, INVALID_REQUEST, null, "method_not_allowed",
          "Method " + method + " is not allowed on " + path + ".", null, null);
      case 415 -> new ApiError(415, INVALID_REQUEST, null, "unsupported_media_type",
          "The request body must be JSON, sent with Content-Type: application/json.", null, null);
      // A body over the limit is the caller's mistake like any other invalid request: 400, as the API documents.
      case 413 -> invalid(null, "request_too_large", "The request body exceeds " + maxBodyBytes + " bytes.");
      case 400 -> invalid(null, "bad_request", "The request could not be read.");
      case 414 -> new ApiError(414, INVALID_REQUEST, null, "uri_too_long",
          "The request line is longer than " + MAX_REQUEST_LINE_BYTES + " bytes.", null, null);
      case 431 -> new ApiError(431, INVALID_REQUEST, null, "request_header_fields_too_large",
          "The request headers are larger than " + MAX_HEADER_BYTES + " bytes.", null, null);
      default -> status >= 400 && status < 500
          ? new ApiError(status, INVALID_REQUEST, null, null, "The request was rejected (HTTP " + status + ").", null,
              null)
          : internal();
    };
  }

  static ApiError internal() {
    return new ApiError(500, SERVER_ERROR, null, "internal_error",
        "The server had an error while processing your request.", null, null);
  }

  int status() {
    return status;
  }

  String type() {
    return type;
  }

  /** The offending request field, or null. */
  String param() {
    return param;
  }

  /** A machine-readable code, or null. */
  String code() {
    return code;
  }

  /** The job the error concerns, or null. */
  String jobId() {
    return jobId;
  }

  /** Seconds for a {@code Retry-After} header, when the caller should come back later. */
  Optional<Integer> retryAfterSeconds() {
    return Optional.ofNullable(retryAfterSeconds);
  }

  @Override
  public String toString() {
    return "ApiError[" + status + " " + type + " " + code + " param=" + param + ": " + getMessage() + "]";
  }
}
