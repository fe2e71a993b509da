package io.aigc.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.aigc.schemas.GenerationError;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ApiErrorTest {
  @ParameterizedTest
  @CsvSource({
      "context_length_exceeded, 400, invalid_request_error",
      "invalid_request,         400, invalid_request_error",
      "model_not_found,         404, invalid_request_error",
      "deadline_exceeded,       504, server_error",
      "poison_record,           500, server_error",
      "internal_error,          500, server_error",
      "something_new,           500, server_error"})
  void pipelineErrorsMapToHttpErrors(String code, int status, String type) {
    ApiError e = ApiError.fromPipeline("cmpl-1", new GenerationError(code, "what happened"));
    assertThat(e.status()).isEqualTo(status);
    assertThat(e.type()).isEqualTo(type);
    assertThat(e.code()).isEqualTo(code);
    assertThat(e.getMessage()).isEqualTo("what happened");
    assertThat(e.jobId()).isEqualTo("cmpl-1");
  }

  @ParameterizedTest
  @CsvSource({
      "404, 404, unknown_url",
      "405, 405, method_not_allowed",
      "415, 415, unsupported_media_type",
      "413, 400, request_too_large",
      "500, 500, internal_error"})
  void routingStatusesMapToErrorBodies(int vertxStatus, int status, String code) {
    ApiError e = ApiError.fromHttpStatus(vertxStatus, "GET", "/x", 1024);
    assertThat(e.status()).isEqualTo(status);
    assertThat(e.code()).isEqualTo(code);
    assertThat(e.type()).isEqualTo(status >= 500 ? "server_error" : "invalid_request_error");
  }
}
