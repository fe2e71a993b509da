package io.aigc.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RoutesTest {
  @ParameterizedTest
  @CsvSource(nullValues = "null", value = {
      "/v1/completions,     /v1/completions, POST",
      "/v1/jobs,            /v1/jobs,        POST",
      "/v1/jobs/cmpl-abc,   /v1/jobs/{id},   'GET, DELETE'",
      "/metrics,            /metrics,        GET",
      "/v1/jobs/a/b,        other,           null",
      "/v1/jobs/,           /v1/jobs,        POST",
      "/v1/jobs/cmpl-abc/,  /v1/jobs/{id},   'GET, DELETE'",
      "/v1/jobs//,          other,           null",
      "/v1/chat/completions, /v1/chat/completions, POST",
      "/v1/models,          /v1/models,      GET",
      "/v1/models/tiny-llama, /v1/models/{id}, GET",
      "/v1/models/org/name, /v1/models/{id}, GET",
      "/v1/models/,         /v1/models,      GET",
      "/v1/embeddings,      other,           null",
      "/v1/files,           /v1/files,       'GET, POST'",
      "/v1/files/file-1,    /v1/files/{id},  'GET, DELETE'",
      "/v1/files/file-1/content, /v1/files/{id}/content, GET",
      "/v1/files//content,  other,           null",
      "/v1/batches,         /v1/batches,     'GET, POST'",
      "/v1/batches/batch_1, /v1/batches/{id}, GET",
      "/v1/batches/batch_1/cancel, /v1/batches/{id}/cancel, POST",
      "/v1/batches/batch_1/other, other,     null",
      "/v1/pipeline,        /v1/pipeline,    GET",
      "/,                   /,               GET",
      "/playground/app.js,  /playground/{file}, GET",
      "/playground/,        other,           null",
      "/index.html,         other,           null"})
  void pathsFallUnderBoundedTemplates(String path, String template, String allowed) {
    // Job ids never become metric labels: the label set stays bounded whatever clients send.
    assertThat(Routes.template(path)).isEqualTo(template);
    assertThat(Routes.allowedMethods(path)).isEqualTo(allowed);
  }
}
