package io.aigc.gateway;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * Malformed requests, each named, with the answer it must get: a 4xx, and the code of OpenAI's error body. Kept as
 * data so one test can check each, and another can send all of them many times. Built for a gateway with the
 * default body limit ({@value #BODY_LIMIT} bytes) where alice's key ({@link TestKeys#ALICE}) is valid.
 *
 * <p>A request goes out exactly as built here: no client library fixes anything on the way.
 */
final class HostileCorpus {
  static final int BODY_LIMIT = 1024 * 1024;
  private static final String PROMPT = "\"prompt\":\"Hi\"";

  /** One malformed request; {@code closes} when the server must end the connection after answering. */
  record Case(String name, byte[] request, int status, String code, boolean closes) {
    boolean head() {
      return request.length > 5 && new String(request, 0, 5, StandardCharsets.ISO_8859_1).equals("HEAD ");
    }

    @Override
    public String toString() {
      return name;
    }
  }

  private final List<Case> cases = new ArrayList<>();

  private HostileCorpus() {}

  static List<Case> cases() {
    HostileCorpus corpus = new HostileCorpus();
    corpus.brokenJson();
    corpus.wrongTypes();
    corpus.extremeNumbers();
    corpus.hugeAndDeep();
    corpus.notUtf8();
    corpus.unknownFields();
    corpus.chat();
    corpus.contentTypes();
    corpus.methods();
    corpus.paths();
    corpus.headers();
    corpus.authorization();
    return List.copyOf(corpus.cases);
  }

  // ---- the corpus ----

  private void brokenJson() {
    Map<String, String> bodies = new LinkedHashMap<>();
    bodies.put("truncated object", "{" + PROMPT);
    bodies.put("truncated string", "{\"prompt\":\"Hi");
    bodies.put("truncated after the colon", "{\"prompt\":");
    bodies.put("only an opening brace", "{");
    bodies.put("trailing garbage", "{" + PROMPT + "} x");
    bodies.put("two objects", "{" + PROMPT + "}{" + PROMPT + "}");
    bodies.put("line comment", "// a comment\n{" + PROMPT + "}");
    bodies.put("block comment", "{\"prompt\":/* a comment */\"Hi\"}");
    bodies.put("hash comment", "# a comment\n{" + PROMPT + "}");
    bodies.put("single quotes", "{'prompt':'Hi'}");
    bodies.put("unquoted key", "{prompt:\"Hi\"}");
    bodies.put("NaN", "{" + PROMPT + ",\"temperature\":NaN}");
    bodies.put("Infinity", "{" + PROMPT + ",\"temperature\":Infinity}");
    bodies.put("-Infinity", "{" + PROMPT + ",\"temperature\":-Infinity}");
    bodies.put("duplicate keys", "{\"prompt\":\"a\",\"prompt\":\"b\"}");
    bodies.put("duplicate keys in metadata", "{" + PROMPT + ",\"metadata\":{\"k\":\"1\",\"k\":\"2\"}}");
    bodies.put("trailing comma in object", "{" + PROMPT + ",}");
    bodies.put("trailing comma in array", "{\"prompt\":[\"Hi\",]}");
    bodies.put("leading zero", "{" + PROMPT + ",\"max_tokens\":016}");
    bodies.put("hex number", "{" + PROMPT + ",\"max_tokens\":0x10}");
    bodies.put("plus sign", "{" + PROMPT + ",\"max_tokens\":+16}");
    bodies.put("bare decimal point", "{" + PROMPT + ",\"temperature\":.5}");
    bodies.put("control character in a string", "{\"prompt\":\"H\u0001i\"}");
    bodies.put("raw newline in a string", "{\"prompt\":\"H\ni\"}");
    bodies.put("invalid escape", "{\"prompt\":\"\\x41\"}");
    bodies.put("truncated unicode escape", "{\"prompt\":\"\\u12\"}");
    bodies.put("Python literal", "{" + PROMPT + ",\"echo\":True}");
    bodies.put("undefined", "{" + PROMPT + ",\"suffix\":undefined}");
    bodies.put("unterminated array", "{\"prompt\":[\"Hi\"}");
    bodies.put("mismatched bracket", "{" + PROMPT + "]");
    bodies.put("key without value", "{\"prompt\"}");
    bodies.put("missing colon", "{\"prompt\" \"Hi\"}");
    bodies.put("missing comma", "{" + PROMPT + " \"max_tokens\":4}");
    bodies.put("whitespace only", "  \r\n\t ");
    bodies.put("empty body", "");
    bodies.forEach((name, body) -> add("broken JSON: " + name, completions(body), 400, "invalid_json"));

    Map<String, String> notObjects = new LinkedHashMap<>();
    notObjects.put("null", "null");
    notObjects.put("an array", "[{" + PROMPT + "}]");
    notObjects.put("a string", "\"Hi\"");
    notObjects.put("a number", "42");
    notObjects.put("a boolean", "true");
    notObjects.forEach((name, body) -> add("not an object: " + name, completions(body), 400, "invalid_type"));
  }

  /** A wrong type for every field the API knows, each alone beside a valid prompt. */
  private void wrongTypes() {
    Map<String, List<String>> wrong = new LinkedHashMap<>();
    wrong.put("model", List.of("42", "[\"tiny-llama\"]", "{}"));
    wrong.put("prompt", List.of("42", "{\"text\":\"Hi\"}", "[1]", "true", "[[\"Hi\"]]"));
    wrong.put("max_tokens", List.of("\"16\"", "16.5", "[16]", "true"));
    wrong.put("temperature", List.of("\"0.7\"", "[0.7]", "{}"));
    wrong.put("top_p", List.of("\"1\"", "false"));
    wrong.put("top_k", List.of("\"40\"", "40.5"));
    wrong.put("n", List.of("\"1\"", "1.5", "true"));
    wrong.put("stop", List.of("42", "[1]", "{\"a\":\"b\"}", "[[\"x\"]]"));
    wrong.put("seed", List.of("\"42\"", "4.2"));
    wrong.put("ignore_eos", List.of("\"true\"", "1"));
    wrong.put("stream", List.of("\"false\"", "0"));
    wrong.put("user", List.of("42", "[\"u\"]"));
    wrong.put("metadata", List.of("\"k=v\"", "[\"k\"]", "{\"k\":1}", "{\"k\":{\"n\":\"v\"}}", "{\"k\":null}"));
    wrong.put("timeout_seconds", List.of("\"30\"", "[30]"));
    wrong.put("echo", List.of("\"false\"", "0"));
    wrong.put("logprobs", List.of("\"0\"", "0.5"));
    wrong.put("best_of", List.of("\"1\"", "1.5"));
    wrong.put("presence_penalty", List.of("\"0\"", "[0]"));
    wrong.put("frequency_penalty", List.of("\"0\"", "{}"));
    wrong.put("logit_bias", List.of("[]", "\"x\""));
    wrong.put("suffix", List.of("42", "[]"));
    wrong.put("repetition_penalty", List.of("\"1\"", "[1]"));
    wrong.put("min_p", List.of("\"0\"", "false"));
    wrong.put("min_tokens", List.of("\"1\"", "1.5"));
    wrong.put("stream_options", List.of("\"include_usage\"", "[true]"));
    wrong.forEach((field, values) -> values.forEach(value -> {
      String body = field.equals("prompt")
          ? "{\"prompt\":" + value + "}"
          : "{" + PROMPT + ",\"" + field + "\":" + value + "}";
      add("wrong type: " + field + " = " + value, completions(body), 400, "invalid_type");
    }));
  }

  private void extremeNumbers() {
    Map<String, String> outOfRange = new LinkedHashMap<>();
    outOfRange.put("temperature 1e309 (infinite)", "\"temperature\":1e309");
    outOfRange.put("temperature -1e309", "\"temperature\":-1e309");
    outOfRange.put("temperature as a 30-digit integer", "\"temperature\":123456789012345678901234567890");
    outOfRange.put("presence_penalty 1e309", "\"presence_penalty\":1e309");
    outOfRange.put("max_tokens -0", "\"max_tokens\":-0");
    outOfRange.put("max_tokens 2^31", "\"max_tokens\":2147483648");
    outOfRange.put("max_tokens 2^63", "\"max_tokens\":9223372036854775808");
    outOfRange.put("max_tokens as a 400-digit integer", "\"max_tokens\":" + "9".repeat(400));
    outOfRange.put("max_tokens -2^63", "\"max_tokens\":-9223372036854775808");
    outOfRange.put("seed 2^63", "\"seed\":9223372036854775808");
    outOfRange.put("seed -2^63-1", "\"seed\":-9223372036854775809");
    outOfRange.put("top_p 1e-400 (underflows to 0)", "\"top_p\":1e-400");
    outOfRange.put("top_p -0", "\"top_p\":-0");
    outOfRange.put("top_k -2^31-1", "\"top_k\":-2147483649");
    outOfRange.put("n 0", "\"n\":0");
    outOfRange.put("n 2^32", "\"n\":4294967296");
    outOfRange.put("timeout_seconds 1e-400", "\"timeout_seconds\":1e-400");
    outOfRange.put("timeout_seconds -0.0", "\"timeout_seconds\":-0.0");
    outOfRange.put("timeout_seconds 1e308", "\"timeout_seconds\":1e308");
    outOfRange.put("frequency_penalty -2.0001", "\"frequency_penalty\":-2.0001");
    outOfRange.put("repetition_penalty 0", "\"repetition_penalty\":0");
    outOfRange.put("min_p 2", "\"min_p\":2");
    outOfRange.put("min_tokens over max_tokens", "\"max_tokens\":4,\"min_tokens\":5");
    outOfRange.put("logprobs 6 (completions allow 5)", "\"logprobs\":6");
    outOfRange.put("logit_bias 101", "\"logit_bias\":{\"5\":101}");
    outOfRange.put("logit_bias key not a token id", "\"logit_bias\":{\"the\":1}");
    outOfRange.put("logit_bias key 2^40", "\"logit_bias\":{\"1099511627776\":1}");
    outOfRange.put("stream_options without stream", "\"stream_options\":{\"include_usage\":true}");
    outOfRange.forEach((name, field) ->
        add("extreme number: " + name, completions("{" + PROMPT + "," + field + "}"), 400, "invalid_value"));

    add("extreme number: max_tokens 1e309", completions("{" + PROMPT + ",\"max_tokens\":1e309}"), 400,
        "invalid_type");
    add("extreme number: max_tokens 1e2 (exponent form)", completions("{" + PROMPT + ",\"max_tokens\":1e2}"), 400,
        "invalid_type");
    add("extreme number: n 1e400", completions("{" + PROMPT + ",\"n\":1e400}"), 400, "invalid_type");
    add("extreme number: 2000 digits", completions("{" + PROMPT + ",\"seed\":" + "1".repeat(2000) + "}"), 400,
        "invalid_json");
    add("extreme number: exponent with 2000 digits",
        completions("{" + PROMPT + ",\"temperature\":1e" + "9".repeat(2000) + "}"), 400, "invalid_json");
  }

  private void hugeAndDeep() {
    int deep = 100_000;
    add("deep: 100k nested arrays", completions("[".repeat(deep) + "]".repeat(deep)), 400, "invalid_json");
    add("deep: 100k unclosed arrays", completions("[".repeat(deep)), 400, "invalid_json");
    int deeper = 10_000;
    add("deep: 10k nested objects in metadata",
        completions("{" + PROMPT + ",\"metadata\":" + "{\"a\":".repeat(deeper) + "1" + "}".repeat(deeper) + "}"),
        400, "invalid_json");
    add("deep: 10k nested arrays as the prompt",
        completions("{\"prompt\":" + "[".repeat(deeper) + "\"Hi\"" + "]".repeat(deeper) + "}"), 400,
        "invalid_json");
    add("deep: 900 nested arrays as stop (under the depth limit)",
        completions("{" + PROMPT + ",\"stop\":" + "[".repeat(900) + "]".repeat(900) + "}"), 400, "invalid_type");

    StringBuilder fields = new StringBuilder("{" + PROMPT);
    for (int i = 0; i < 10_000; i++) {
      fields.append(",\"k").append(i).append("\":1");
    }
    add("huge: 10k unknown fields", completions(fields.append('}').toString()), 400, "unknown_parameter");
    StringBuilder metadata = new StringBuilder("{" + PROMPT + ",\"metadata\":{");
    for (int i = 0; i < 5_000; i++) {
      metadata.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":\"v\"");
    }
    add("huge: metadata with 5k keys", completions(metadata.append("}}").toString()), 400, "invalid_value");
    StringBuilder stop = new StringBuilder("{" + PROMPT + ",\"stop\":[");
    for (int i = 0; i < 10_000; i++) {
      stop.append(i == 0 ? "" : ",").append("\"s\"");
    }
    add("huge: 10k stop sequences", completions(stop.append("]}").toString()), 400, "invalid_value");
    add("huge: 200 KB model name",
        completions("{" + PROMPT + ",\"model\":\"" + "m".repeat(200 * 1024) + "\"}"), 404, "model_not_found");
    add("huge: half a megabyte of whitespace", completions(" ".repeat(BODY_LIMIT / 2)), 400, "invalid_json");
    // Refused on the declared length alone: the 64 KB sent are never read, and the rest never has to be sent.
    add("huge: body over the limit, length declared", api("POST", "/v1/completions").json()
        .header("Content-Length", Integer.toString(2 * BODY_LIMIT)).noLength().body(new byte[64 * 1024]).bytes(),
        400, "request_too_large", true);
    // No length to refuse on: read up to the limit, then refused.
    add("huge: body over the limit, chunked", api("POST", "/v1/jobs").json()
        .chunked(chunks(" ".repeat(8192), BODY_LIMIT / 8192 + 8)).bytes(), 400, "request_too_large", true);
  }

  private void notUtf8() {
    Map<String, byte[]> bad = new LinkedHashMap<>();
    bad.put("0xFF", new byte[] {(byte) 0xFF});
    bad.put("overlong '/' (C0 AF)", new byte[] {(byte) 0xC0, (byte) 0xAF});
    bad.put("overlong NUL (C0 80)", new byte[] {(byte) 0xC0, (byte) 0x80});
    bad.put("encoded surrogate (ED A0 80)", new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80});
    bad.put("truncated sequence (E2 82)", new byte[] {(byte) 0xE2, (byte) 0x82});
    bad.put("lone continuation byte", new byte[] {(byte) 0x80});
    bad.put("five-byte sequence", new byte[] {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80});
    bad.put("beyond U+10FFFF (F4 90 80 80)", new byte[] {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80});
    bad.put("Latin-1 e-acute", new byte[] {(byte) 0xE9});
    bad.forEach((name, bytes) -> add("not UTF-8: " + name + " in the prompt",
        completions(concat(ascii("{\"prompt\":\"caf"), bytes, ascii("\"}"))), 400, "invalid_json"));
    add("not UTF-8: in a field name", completions(concat(ascii("{" + PROMPT + ",\""), new byte[] {(byte) 0xFE},
        ascii("\":1}"))), 400, "invalid_json");
    add("not UTF-8: UTF-16LE body", completions(("{" + PROMPT + "}").getBytes(StandardCharsets.UTF_16LE)), 400,
        "invalid_json");
    add("not UTF-8: UTF-16 body with a byte order mark",
        completions(("{" + PROMPT + "}").getBytes(StandardCharsets.UTF_16)), 400, "invalid_json");
    add("not UTF-8: raw NUL in a string", completions(concat(ascii("{\"prompt\":\"H"), new byte[] {0},
        ascii("i\"}"))), 400, "invalid_json");
    add("not text: unpaired high surrogate escape in the prompt", completions("{\"prompt\":\"Hi\\ud800\"}"), 400,
        "invalid_value");
    add("not text: unpaired low surrogate escape in stop",
        completions("{" + PROMPT + ",\"stop\":\"\\udc00\"}"), 400, "invalid_value");
    add("not text: reversed surrogate pair in metadata",
        completions("{" + PROMPT + ",\"metadata\":{\"k\":\"\\udc00\\ud800\"}}"), 400, "invalid_value");
  }

  private void unknownFields() {
    Map<String, String> unknown = new LinkedHashMap<>();
    unknown.put("foo", "\"foo\":1");
    unknown.put("case variant Prompt", "\"Prompt\":\"x\"");
    unknown.put("chat messages", "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]");
    unknown.put("empty name", "\"\":1");
    unknown.put("trailing space in a name", "\"max_tokens \":1");
    unknown.put("__proto__", "\"__proto__\":{\"admin\":true}");
    unknown.put("api_key_name at the top", "\"api_key_name\":\"alice\"");
    unknown.put("functions", "\"functions\":[]");
    unknown.forEach((name, field) ->
        add("unknown field: " + name, completions("{" + PROMPT + "," + field + "}"), 400, "unknown_parameter"));
    add("reserved metadata key api_key_name",
        completions("{" + PROMPT + ",\"metadata\":{\"api_key_name\":\"admin\"}}"), 400, "invalid_value");
  }

  /** Broken {@code /v1/chat/completions} bodies: the messages above all. */
  private void chat() {
    String hi = "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]";
    Map<String, String[]> bodies = new LinkedHashMap<>();
    bodies.put("truncated", new String[] {"{" + hi, "invalid_json"});
    bodies.put("no messages", new String[] {"{\"max_tokens\":4}", "missing_required_parameter"});
    bodies.put("messages null", new String[] {"{\"messages\":null}", "missing_required_parameter"});
    bodies.put("messages a string", new String[] {"{\"messages\":\"Hi\"}", "invalid_type"});
    bodies.put("messages an object", new String[] {"{\"messages\":{\"role\":\"user\"}}", "invalid_type"});
    bodies.put("no message", new String[] {"{\"messages\":[]}", "invalid_value"});
    bodies.put("a message that is a string", new String[] {"{\"messages\":[\"Hi\"]}", "invalid_type"});
    bodies.put("a message without role", new String[] {"{\"messages\":[{\"content\":\"Hi\"}]}",
        "missing_required_parameter"});
    bodies.put("a message without content", new String[] {"{\"messages\":[{\"role\":\"user\"}]}",
        "missing_required_parameter"});
    bodies.put("a role that is a number", new String[] {"{\"messages\":[{\"role\":1,\"content\":\"Hi\"}]}",
        "invalid_type"});
    bodies.put("an unknown role", new String[] {"{\"messages\":[{\"role\":\"root\",\"content\":\"Hi\"}]}",
        "invalid_value"});
    bodies.put("content that is a number", new String[] {"{\"messages\":[{\"role\":\"user\",\"content\":1}]}",
        "invalid_type"});
    bodies.put("an image part", new String[] {"{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
        + "\"image_url\",\"image_url\":{\"url\":\"file:///etc/passwd\"}}]}]}", "invalid_value"});
    bodies.put("a part without a type", new String[] {"{\"messages\":[{\"role\":\"user\",\"content\":"
        + "[{\"text\":\"Hi\"}]}]}", "missing_required_parameter"});
    bodies.put("an unknown field in a message", new String[] {"{\"messages\":[{\"role\":\"user\",\"content\":"
        + "\"Hi\",\"__proto__\":{}}]}", "unknown_parameter"});
    bodies.put("a tool message", new String[] {"{\"messages\":[{\"role\":\"tool\",\"content\":\"1\","
        + "\"tool_call_id\":\"x\"}]}", "unsupported_parameter"});
    bodies.put("tools", new String[] {"{" + hi + ",\"tools\":[{\"type\":\"function\"}]}",
        "unsupported_parameter"});
    bodies.put("json output", new String[] {"{" + hi + ",\"response_format\":{\"type\":\"json_object\"}}",
        "unsupported_parameter"});
    bodies.put("a prompt as well", new String[] {"{\"prompt\":\"Hi\"," + hi + "}", "unknown_parameter"});
    bodies.put("two different token limits", new String[] {"{" + hi + ",\"max_tokens\":4,"
        + "\"max_completion_tokens\":5}", "invalid_value"});
    bodies.put("top_logprobs without logprobs", new String[] {"{" + hi + ",\"top_logprobs\":2}", "invalid_value"});
    bodies.put("top_logprobs 21", new String[] {"{" + hi + ",\"logprobs\":true,\"top_logprobs\":21}",
        "invalid_value"});
    bodies.put("logprobs as a number", new String[] {"{" + hi + ",\"logprobs\":5}", "invalid_type"});
    bodies.put("an unpaired surrogate in content", new String[] {"{\"messages\":[{\"role\":\"user\","
        + "\"content\":\"\\ud800\"}]}", "invalid_value"});
    bodies.put("10k nested arrays as content", new String[] {"{\"messages\":[{\"role\":\"user\",\"content\":"
        + "[".repeat(10_000) + "]".repeat(10_000) + "}]}", "invalid_json"});
    StringBuilder many = new StringBuilder("{\"max_tokens\":0,\"messages\":[");
    for (int i = 0; i < 5_000; i++) {
      many.append(i == 0 ? "" : ",").append("{\"role\":\"user\",\"content\":\"Hi\"}");
    }
    bodies.put("5k messages, max_tokens 0", new String[] {many.append("]}").toString(), "invalid_value"});
    bodies.forEach((name, body) -> add("chat: " + name, chat(body[0]), 400, body[1]));
    add("chat: an unknown model", chat("{" + hi + ",\"model\":\"gpt-4o\"}"), 404, "model_not_found");
    add("chat: stream true on /v1/jobs", api("POST", "/v1/jobs").json().body("{" + PROMPT + ",\"stream\":true}")
        .bytes(), 400, "unsupported_parameter");
    add("models: an unknown model", api("GET", "/v1/models/gpt-4o").bytes(), 404, "model_not_found");
    add("models: an unknown model with slashes", api("GET", "/v1/models/org/..%2f..%2fetc").bytes(), 404,
        "model_not_found");
  }

  private void contentTypes() {
    String body = "{" + PROMPT + ",\"max_tokens\":0}";
    Map<String, String> refused = new LinkedHashMap<>();
    refused.put("text/plain", "text/plain");
    refused.put("multipart/form-data", "multipart/form-data; boundary=xyz");
    refused.put("form-urlencoded", "application/x-www-form-urlencoded");
    refused.put("application/xml", "application/xml");
    refused.put("text/json", "text/json");
    refused.put("application/jsonx", "application/jsonx");
    refused.put("application/json-patch+json", "application/json-patch+json");
    refused.put("a list of two types", "application/json, text/plain");
    refused.put("empty value", "");
    refused.put("only semicolons", ";;;");
    refused.put("charset latin1", "application/json; charset=latin1");
    refused.put("charset utf-16", "application/json; charset=utf-16");
    refused.put("empty charset", "application/json; charset=");
    refused.put("second charset contradicts the first", "application/json; charset=utf-8; charset=iso-8859-1");
    refused.forEach((name, type) -> add("content type: " + name,
        api("POST", "/v1/completions").header("Content-Type", type).body(body).bytes(), 415,
        "unsupported_media_type"));
    add("content type: missing", api("POST", "/v1/completions").body(body).bytes(), 415, "unsupported_media_type");
    add("content type: multipart body on /v1/jobs", api("POST", "/v1/jobs")
        .header("Content-Type", "multipart/form-data; boundary=xyz")
        .body("--xyz\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nHi\r\n--xyz--\r\n").bytes(), 415,
        "unsupported_media_type");
    // Accepted types: the body is what is wrong.
    add("content type: quoted UTF-8 charset, body invalid",
        api("POST", "/v1/completions").header("Content-Type", "application/json; charset=\"UTF-8\"").body(body)
            .bytes(), 400, "invalid_value");
    add("content type: parameter without value, body invalid",
        api("POST", "/v1/completions").header("Content-Type", "application/json;charset").body(body).bytes(), 400,
        "invalid_value");
  }

  private void methods() {
    Map<String, String> routes = new LinkedHashMap<>();
    routes.put("/v1/completions", "POST");
    routes.put("/v1/chat/completions", "POST");
    routes.put("/v1/jobs", "POST");
    routes.put("/v1/jobs/cmpl-x", "GET, DELETE");
    routes.put("/v1/models", "GET");
    routes.put("/v1/models/tiny-llama", "GET");
    routes.put("/healthz", "GET");
    routes.put("/readyz", "GET");
    routes.put("/metrics", "GET");
    routes.forEach((path, allowed) -> {
      for (String method : List.of("PUT", "DELETE", "PATCH")) {
        if (allowed.contains(method)) {
          continue;
        }
        add("method: " + method + " " + path, api(method, path).json().body("{" + PROMPT + "}").bytes(), 405,
            "method_not_allowed");
      }
      String other = allowed.startsWith("GET") ? "POST" : "GET";
      add("method: " + other + " " + path, api(other, path).json().body(other.equals("POST") ? "{}" : null)
          .bytes(), 405, "method_not_allowed");
    });
    add("method: OPTIONS /v1/completions", api("OPTIONS", "/v1/completions").bytes(), 405, "method_not_allowed");
    add("method: TRACE /v1/jobs", api("TRACE", "/v1/jobs").bytes(), 405, "method_not_allowed");
    add("method: made-up BREW /v1/completions", api("BREW", "/v1/completions").bytes(), 405,
        "method_not_allowed");
    add("method: lower-case get /healthz", api("get", "/healthz").bytes(), 405, "method_not_allowed");
    add("method: HEAD /v1/completions (no body, by HTTP)", api("HEAD", "/v1/completions").bytes(), 405,
        "method_not_allowed");
  }

  private void paths() {
    String invalid = "{" + PROMPT + ",\"max_tokens\":0}";
    add("path: /v1/../v1/completions reaches the route", api("POST", "/v1/../v1/completions").json().body(invalid)
        .bytes(), 400, "invalid_value");
    add("path: //v1/completions reaches the route", api("POST", "//v1/completions").json().body(invalid).bytes(),
        400, "invalid_value");
    add("path: absolute-form URI", api("POST", "http://evil.example/v1/completions").json().body(invalid).bytes(),
        400, "invalid_value");
    add("path: GET /v1/../v1/completions", api("GET", "/v1/../v1/completions").bytes(), 405,
        "method_not_allowed");
    add("path: %2e%2e segments", api("GET", "/v1/%2e%2e/v1/completions").bytes(), 405, "method_not_allowed");
    add("path: /v1/jobs/../../etc/passwd", api("GET", "/v1/jobs/../../etc/passwd").bytes(), 404, "unknown_url");
    add("path: encoded ../../etc/passwd as a job id", api("GET", "/v1/jobs/..%2f..%2fetc%2fpasswd").bytes(), 404,
        "job_not_found");
    add("path: %2e%2e beyond the root", api("GET", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd").bytes(), 404,
        "unknown_url");
    add("path: double-encoded dots", api("GET", "/v1/jobs/%252e%252e").bytes(), 404, "job_not_found");
    add("path: backslashes", api("GET", "/v1\\..\\v1/completions").bytes(), 404, "unknown_url");
    add("path: upper case", api("GET", "/V1/COMPLETIONS").bytes(), 404, "unknown_url");
    add("path: no leading slash", api("GET", "v1/completions").bytes(), 404, "unknown_url");
    add("path: asterisk", api("GET", "*").bytes(), 404, "unknown_url");
    add("path: matrix parameter", api("GET", "/v1/completions;jsessionid=x").bytes(), 404, "unknown_url");
    add("path: a job id with a slash in it", api("GET", "/v1/jobs/a/b").bytes(), 404, "unknown_url");
    add("path: NUL in a job id", api("GET", "/v1/jobs/%00").bytes(), 404, "job_not_found");
    add("path: raw UTF-8 in a job id", api("GET", "/v1/jobs/\u00c3\u00a9\u00c3\u00a9").bytes(), 404,
        "job_not_found");
    add("path: encoded unicode in a job id", api("GET", "/v1/jobs/%F0%9F%A6%99").bytes(), 404, "job_not_found");
    add("path: fragment", api("GET", "/v1/jobs/x#fragment").bytes(), 404, "job_not_found");
    add("path: 4000-character job id", api("GET", "/v1/jobs/" + "x".repeat(4000)).bytes(), 404, "job_not_found");
    add("path: longer than the request line limit", api("GET", "/v1/jobs/" + "x".repeat(10_000)).bytes(), 414,
        "uri_too_long", true);
    add("path: malformed escape", api("GET", "/v1/jobs/%zz").bytes(), 400, "invalid_path");
    add("path: truncated escape", api("GET", "/healthz%").bytes(), 400, "invalid_path");
    add("path: malformed escape in the query", api("GET", "/v1/jobs/x?a=%zz").bytes(), 400, "invalid_query");
    add("path: 800 query parameters", api("GET", "/v1/jobs/x?" + "a=1&".repeat(800)).bytes(), 404,
        "job_not_found");
  }

  private void headers() {
    String invalid = "{" + PROMPT + ",\"max_tokens\":0}";
    add("header: one 9 KB value", api("GET", "/healthz").header("X-Big", "a".repeat(9 * 1024)).bytes(), 431,
        "request_header_fields_too_large", true);
    Request many = api("GET", "/healthz");
    for (int i = 0; i < 300; i++) {
      many.header("X-Many-" + i, "v".repeat(20));
    }
    add("header: 300 headers", many.bytes(), 431, "request_header_fields_too_large", true);
    add("header: space before the colon", api("GET", "/healthz").header("X-A ", "b").bytes(), 400, "bad_request",
        true);
    add("header: line without a colon", raw("GET /healthz HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n"), 400,
        "bad_request", true);
    add("header: NUL in a value", api("GET", "/healthz").header("X-A", "a\u0000b").bytes(), 400, "bad_request",
        true);
    add("header: garbage request line", raw("GARBAGE\r\n\r\n"), 400, "bad_request", true);
    add("header: request line without a version", raw("GET /healthz\r\n\r\n"), 400, "bad_request", true);
    add("header: HTTP/1.1 without Host", raw("GET /healthz HTTP/1.1\r\n\r\n"), 400, "bad_request");
    add("header: two different Content-Lengths", api("POST", "/v1/completions").json()
        .header("Content-Length", "3").body(invalid).bytes(), 400, "bad_request", true);
    add("header: Content-Length not a number", api("POST", "/v1/completions").json().header("Content-Length", "abc")
        .noLength().bytes(), 400, "bad_request", true);
    add("header: negative Content-Length", api("POST", "/v1/completions").json().header("Content-Length", "-1")
        .noLength().bytes(), 400, "bad_request", true);
    add("header: chunk size not hex", api("POST", "/v1/jobs").json().chunked(ascii("zz\r\nabc\r\n0\r\n\r\n"))
        .bytes(), 400, "bad_request", true);
    add("header: chunk longer than its size", api("POST", "/v1/jobs").json().chunked(ascii("2\r\nabc\r\n0\r\n\r\n"))
        .bytes(), 400, "bad_request", true);
    add("header: gzip-encoded body", api("POST", "/v1/completions").json().header("Content-Encoding", "gzip")
        .body(gzip(invalid)).bytes(), 400, "invalid_json");
    add("header: folded header", raw("POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + TestKeys.ALICE + "\r\nContent-Type: application/json\r\nX-Folded: a\r\n  b\r\nContent-Length: "
        + invalid.length() + "\r\n\r\n" + invalid), 400, "invalid_value");
    add("header: Latin-1 bytes in a value", api("POST", "/v1/completions").json().header("X-Name", "\u00e9\u00ff")
        .body(invalid).bytes(), 400, "invalid_value");
    add("header: Idempotency-Key with a space", api("POST", "/v1/jobs").json().header("Idempotency-Key", "a b")
        .body(invalid).bytes(), 400, "invalid_idempotency_key");
    add("header: Idempotency-Key of 300 characters", api("POST", "/v1/jobs").json()
        .header("Idempotency-Key", "k".repeat(300)).body(invalid).bytes(), 400, "invalid_idempotency_key");
    add("header: Idempotency-Key with Latin-1", api("POST", "/v1/jobs").json()
        .header("Idempotency-Key", "caf\u00e9").body(invalid).bytes(), 400, "invalid_idempotency_key");
  }

  private void authorization() {
    String invalid = "{" + PROMPT + ",\"max_tokens\":0}";
    add("authorization: missing", anonymous("POST", "/v1/completions").json().body(invalid).bytes(), 401,
        "missing_api_key");
    Map<String, String> wrong = new LinkedHashMap<>();
    wrong.put("Basic scheme", "Basic YWxpY2U6cHc=");
    wrong.put("scheme only", "Bearer");
    wrong.put("empty value", "");
    wrong.put("two tokens", "Bearer a b");
    wrong.put("Token scheme", "Token " + TestKeys.ALICE);
    wrong.put("no scheme", TestKeys.ALICE);
    wrong.put("wrong key", "Bearer sk-guess");
    wrong.put("key with a character more", "Bearer " + TestKeys.ALICE + "x");
    wrong.put("key with a character less", "Bearer " + TestKeys.ALICE.substring(1));
    wrong.put("6000-character key", "Bearer " + "k".repeat(6000));
    wrong.put("Latin-1 bytes", "Bearer \u00e9\u00e9\u00ff");
    wrong.put("quoted key", "Bearer \"" + TestKeys.ALICE + "\"");
    wrong.put("two keys with a comma", "Bearer " + TestKeys.ALICE + "," + TestKeys.BOB);
    wrong.put("the configured hash", "Bearer " + TestKeys.entry("alice", TestKeys.ALICE).substring(6));
    wrong.forEach((name, value) -> add("authorization: " + name,
        anonymous("POST", "/v1/completions").header("Authorization", value).json().body(invalid).bytes(), 401,
        "invalid_api_key"));
    add("authorization: two valid headers", api("POST", "/v1/completions").header("Authorization", "Bearer "
        + TestKeys.BOB).json().body(invalid).bytes(), 401, "invalid_api_key");
    add("authorization: missing, on GET /v1/jobs/{id}", anonymous("GET", "/v1/jobs/cmpl-x").bytes(), 401,
        "missing_api_key");
    add("authorization: missing, on an unknown /v1/ path", anonymous("GET", "/v1/admin").bytes(), 401,
        "missing_api_key");
    add("authorization: missing, through ../", anonymous("POST", "/healthz/../v1/jobs").json().body(invalid)
        .bytes(), 401, "missing_api_key");
    add("authorization: lower-case scheme is fine, body invalid", anonymous("POST", "/v1/completions")
        .header("Authorization", "bearer " + TestKeys.ALICE).json().body(invalid).bytes(), 400, "invalid_value");
  }

  // ---- building requests ----

  private void add(String name, byte[] request, int status, String code) {
    add(name, request, status, code, false);
  }

  private void add(String name, byte[] request, int status, String code, boolean closes) {
    cases.add(new Case(name, request, status, code, closes));
  }

  /** POST /v1/completions with alice's key and a JSON body. */
  private static byte[] completions(String body) {
    return completions(body.getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] completions(byte[] body) {
    return api("POST", "/v1/completions").json().body(body).bytes();
  }

  /** POST /v1/chat/completions with alice's key and a JSON body. */
  private static byte[] chat(String body) {
    return api("POST", "/v1/chat/completions").json().body(body).bytes();
  }

  /** A request with a Host header and alice's key. */
  private static Request api(String method, String target) {
    return anonymous(method, target).header("Authorization", "Bearer " + TestKeys.ALICE);
  }

  /** A request with a Host header and no key. */
  private static Request anonymous(String method, String target) {
    return new Request(method + " " + target + " HTTP/1.1").header("Host", "localhost");
  }

  private static byte[] raw(String request) {
    return request.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static byte[] ascii(String text) {
    return text.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  private static byte[] chunks(String chunk, int count) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] one = ascii(Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n");
    for (int i = 0; i < count; i++) {
      out.writeBytes(one);
    }
    out.writeBytes(ascii("0\r\n\r\n"));
    return out.toByteArray();
  }

  private static byte[] gzip(String text) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream zip = new GZIPOutputStream(out)) {
      zip.write(text.getBytes(StandardCharsets.UTF_8));
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toByteArray();
  }

  /** A request's bytes: header values are ISO-8859-1, so any byte can be spelled as a char. */
  private static final class Request {
    private final String requestLine;
    private final List<String> headers = new ArrayList<>();
    private byte[] body;
    private boolean declareLength = true;

    Request(String requestLine) {
      this.requestLine = requestLine;
    }

    Request header(String name, String value) {
      headers.add(name + ": " + value);
      return this;
    }

    Request json() {
      return header("Content-Type", "application/json");
    }

    Request body(String text) {
      return body(text == null ? null : text.getBytes(StandardCharsets.UTF_8));
    }

    Request body(byte[] bytes) {
      this.body = bytes;
      return this;
    }

    /** No Content-Length of our own (the test sets a broken one). */
    Request noLength() {
      declareLength = false;
      return this;
    }

    /** {@code framed} is sent as it is, after {@code Transfer-Encoding: chunked}. */
    Request chunked(byte[] framed) {
      header("Transfer-Encoding", "chunked");
      declareLength = false;
      return body(framed);
    }

    byte[] bytes() {
      StringBuilder head = new StringBuilder(requestLine).append("\r\n");
      headers.forEach(h -> head.append(h).append("\r\n"));
      if (declareLength && body != null) {
        head.append("Content-Length: ").append(body.length).append("\r\n");
      }
      head.append("\r\n");
      return concat(head.toString().getBytes(StandardCharsets.ISO_8859_1), body == null ? new byte[0] : body);
    }
  }
}
