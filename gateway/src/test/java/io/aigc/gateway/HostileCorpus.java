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
    Map<String, String> bodies = table("""
        truncated object | {"prompt":"Hi"
        truncated string | {"prompt":"Hi
        truncated after the colon | {"prompt":
        only an opening brace | {
        trailing garbage | {"prompt":"Hi"} x
        two objects | {"prompt":"Hi"}{"prompt":"Hi"}
        block comment | {"prompt":/* a comment */"Hi"}
        single quotes | {'prompt':'Hi'}
        unquoted key | {prompt:"Hi"}
        NaN | {"prompt":"Hi","temperature":NaN}
        Infinity | {"prompt":"Hi","temperature":Infinity}
        -Infinity | {"prompt":"Hi","temperature":-Infinity}
        duplicate keys | {"prompt":"a","prompt":"b"}
        duplicate keys in metadata | {"prompt":"Hi","metadata":{"k":"1","k":"2"}}
        trailing comma in object | {"prompt":"Hi",}
        trailing comma in array | {"prompt":["Hi",]}
        leading zero | {"prompt":"Hi","max_tokens":016}
        hex number | {"prompt":"Hi","max_tokens":0x10}
        plus sign | {"prompt":"Hi","max_tokens":+16}
        bare decimal point | {"prompt":"Hi","temperature":.5}
        invalid escape | {"prompt":"\\x41"}
        truncated unicode escape | {"prompt":"\\u12"}
        Python literal | {"prompt":"Hi","echo":True}
        undefined | {"prompt":"Hi","suffix":undefined}
        unterminated array | {"prompt":["Hi"}
        mismatched bracket | {"prompt":"Hi"]
        key without value | {"prompt"}
        missing colon | {"prompt" "Hi"}
        missing comma | {"prompt":"Hi" "max_tokens":4}
        """);
    bodies.put("line comment", "// a comment\n{" + PROMPT + "}");
    bodies.put("hash comment", "# a comment\n{" + PROMPT + "}");
    bodies.put("control character in a string", "{\"prompt\":\"H\u0001i\"}");
    bodies.put("raw newline in a string", "{\"prompt\":\"H\ni\"}");
    bodies.put("whitespace only", "  \r\n\t ");
    bodies.put("empty body", "");
    bodies.forEach((name, body) -> add("broken JSON: " + name, completions(body), 400, "invalid_json"));

    Map<String, String> notObjects = table("""
        null | null
        an array | [{"prompt":"Hi"}]
        a string | "Hi"
        a number | 42
        a boolean | true
        """);
    notObjects.forEach((name, body) -> add("not an object: " + name, completions(body), 400, "invalid_type"));
  }

  /** A wrong type for every field the API knows, each alone beside a valid prompt. */
  private void wrongTypes() {
    // Each field, then its wrong values, apart.
    Map<String, String> wrong = table("""
        model | 42 ["tiny-llama"] {}
        prompt | 42 {"text":"Hi"} [1] true [["Hi"]]
        max_tokens | "16" 16.5 [16] true
        temperature | "0.7" [0.7] {}
        top_p | "1" false
        top_k | "40" 40.5
        n | "1" 1.5 true
        stop | 42 [1] {"a":"b"} [["x"]]
        seed | "42" 4.2
        ignore_eos | "true" 1
        stream | "false" 0
        user | 42 ["u"]
        metadata | "k=v" ["k"] {"k":1} {"k":{"n":"v"}} {"k":null}
        timeout_seconds | "30" [30]
        echo | "false" 0
        logprobs | "0" 0.5
        best_of | "1" 1.5
        presence_penalty | "0" [0]
        frequency_penalty | "0" {}
        logit_bias | [] "x"
        suffix | 42 []
        repetition_penalty | "1" [1]
        min_p | "0" false
        min_tokens | "1" 1.5
        stream_options | "include_usage" [true]
        """);
    wrong.forEach((field, values) -> List.of(values.split(" ")).forEach(value -> {
      String body = field.equals("prompt")
          ? "{\"prompt\":" + value + "}"
          : "{" + PROMPT + ",\"" + field + "\":" + value + "}";
      add("wrong type: " + field + " = " + value, completions(body), 400, "invalid_type");
    }));
  }

  private void extremeNumbers() {
    Map<String, String> outOfRange = table("""
        temperature 1e309 (infinite) | "temperature":1e309
        temperature -1e309 | "temperature":-1e309
        temperature as a 30-digit integer | "temperature":123456789012345678901234567890
        presence_penalty 1e309 | "presence_penalty":1e309
        max_tokens -0 | "max_tokens":-0
        max_tokens 2^31 | "max_tokens":2147483648
        max_tokens 2^63 | "max_tokens":9223372036854775808
        max_tokens -2^63 | "max_tokens":-9223372036854775808
        seed 2^63 | "seed":9223372036854775808
        seed -2^63-1 | "seed":-9223372036854775809
        top_p 1e-400 (underflows to 0) | "top_p":1e-400
        top_p -0 | "top_p":-0
        top_k -2^31-1 | "top_k":-2147483649
        n 0 | "n":0
        n 2^32 | "n":4294967296
        timeout_seconds 1e-400 | "timeout_seconds":1e-400
        timeout_seconds -0.0 | "timeout_seconds":-0.0
        timeout_seconds 1e308 | "timeout_seconds":1e308
        frequency_penalty -2.0001 | "frequency_penalty":-2.0001
        repetition_penalty 0 | "repetition_penalty":0
        min_p 2 | "min_p":2
        min_tokens over max_tokens | "max_tokens":4,"min_tokens":5
        logprobs 6 (completions allow 5) | "logprobs":6
        logit_bias 101 | "logit_bias":{"5":101}
        logit_bias key not a token id | "logit_bias":{"the":1}
        logit_bias key 2^40 | "logit_bias":{"1099511627776":1}
        stream_options without stream | "stream_options":{"include_usage":true}
        """);
    outOfRange.put("max_tokens as a 400-digit integer", "\"max_tokens\":" + "9".repeat(400));
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
    Map<String, String> unknown = table("""
        foo | "foo":1
        case variant Prompt | "Prompt":"x"
        chat messages | "messages":[{"role":"user","content":"Hi"}]
        empty name | "":1
        trailing space in a name | "max_tokens ":1
        __proto__ | "__proto__":{"admin":true}
        api_key_name at the top | "api_key_name":"alice"
        functions | "functions":[]
        """);
    unknown.forEach((name, field) ->
        add("unknown field: " + name, completions("{" + PROMPT + "," + field + "}"), 400, "unknown_parameter"));
    add("reserved metadata key api_key_name",
        completions("{" + PROMPT + ",\"metadata\":{\"api_key_name\":\"admin\"}}"), 400, "invalid_value");
  }

  /** Broken {@code /v1/chat/completions} bodies: the messages above all. */
  private void chat() {
    String hi = "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]";
    Map<String, String[]> bodies = new LinkedHashMap<>();
    rows("""
        truncated | {"messages":[{"role":"user","content":"Hi"}] | invalid_json
        no messages | {"max_tokens":4} | missing_required_parameter
        messages null | {"messages":null} | missing_required_parameter
        messages a string | {"messages":"Hi"} | invalid_type
        messages an object | {"messages":{"role":"user"}} | invalid_type
        no message | {"messages":[]} | invalid_value
        a message that is a string | {"messages":["Hi"]} | invalid_type
        a message without role | {"messages":[{"content":"Hi"}]} | missing_required_parameter
        a message without content | {"messages":[{"role":"user"}]} | missing_required_parameter
        a role that is a number | {"messages":[{"role":1,"content":"Hi"}]} | invalid_type
        an unknown role | {"messages":[{"role":"root","content":"Hi"}]} | invalid_value
        content that is a number | {"messages":[{"role":"user","content":1}]} | invalid_type
        an image part | {"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"file:///etc/passwd"}}]}]} | invalid_value
        a part without a type | {"messages":[{"role":"user","content":[{"text":"Hi"}]}]} | missing_required_parameter
        an unknown field in a message | {"messages":[{"role":"user","content":"Hi","__proto__":{}}]} | unknown_parameter
        a tool message | {"messages":[{"role":"tool","content":"1","tool_call_id":"x"}]} | unsupported_parameter
        tools | {"messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function"}]} | unsupported_parameter
        json output | {"messages":[{"role":"user","content":"Hi"}],"response_format":{"type":"json_object"}} | unsupported_parameter
        a prompt as well | {"prompt":"Hi","messages":[{"role":"user","content":"Hi"}]} | unknown_parameter
        two different token limits | {"messages":[{"role":"user","content":"Hi"}],"max_tokens":4,"max_completion_tokens":5} | invalid_value
        top_logprobs without logprobs | {"messages":[{"role":"user","content":"Hi"}],"top_logprobs":2} | invalid_value
        top_logprobs 21 | {"messages":[{"role":"user","content":"Hi"}],"logprobs":true,"top_logprobs":21} | invalid_value
        logprobs as a number | {"messages":[{"role":"user","content":"Hi"}],"logprobs":5} | invalid_type
        an unpaired surrogate in content | {"messages":[{"role":"user","content":"\\ud800"}]} | invalid_value
        """).forEach(r -> bodies.put(r[0], new String[] {r[1], r[2]}));
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
    Map<String, String> refused = table("""
        text/plain | text/plain
        multipart/form-data | multipart/form-data; boundary=xyz
        form-urlencoded | application/x-www-form-urlencoded
        application/xml | application/xml
        text/json | text/json
        application/jsonx | application/jsonx
        application/json-patch+json | application/json-patch+json
        a list of two types | application/json, text/plain
        only semicolons | ;;;
        charset latin1 | application/json; charset=latin1
        charset utf-16 | application/json; charset=utf-16
        empty charset | application/json; charset=
        second charset contradicts the first | application/json; charset=utf-8; charset=iso-8859-1
        """);
    refused.put("empty value", "");
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
    Map<String, String> routes = table("""
        /v1/completions | POST
        /v1/chat/completions | POST
        /v1/jobs | POST
        /v1/jobs/cmpl-x | GET, DELETE
        /v1/models | GET
        /v1/models/tiny-llama | GET
        /healthz | GET
        /readyz | GET
        /metrics | GET
        """);
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

  /** The rows of a table, one a line, its columns parted by {@code " | "}. */
  private static List<String[]> rows(String table) {
    return table.lines().map(line -> line.strip().split(" \\| ")).toList();
  }

  /** A table of two columns, in order: the first column to the second. */
  private static Map<String, String> table(String table) {
    Map<String, String> pairs = new LinkedHashMap<>();
    rows(table).forEach(row -> pairs.put(row[0], row[1]));
    return pairs;
  }

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
