package io.aigc.text;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.ExtendedSyntaxBuilder;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.el.TruthyTypeConverter;
import com.hubspot.jinjava.el.ext.ExtendedParser;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.InterpreterFactory;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.lib.tag.IfTag;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;
import com.hubspot.jinjava.util.LengthLimitingStringBuilder;
import java.lang.reflect.Method;
import java.time.Clock;
import java.util.Map;
import jinjava.de.odysseus.el.misc.TypeConverter;
import jinjava.de.odysseus.el.ExpressionFactoryImpl;
import jinjava.de.odysseus.el.tree.Bindings;
import jinjava.de.odysseus.el.tree.TreeStore;
import jinjava.de.odysseus.el.tree.impl.Builder;
import jinjava.de.odysseus.el.tree.impl.Cache;
import jinjava.de.odysseus.el.tree.impl.Parser;
import jinjava.de.odysseus.el.tree.impl.Scanner;
import jinjava.de.odysseus.el.tree.impl.ast.AstBinary;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstUnary;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ExpressionFactory;

/**
 * Jinjava set up as transformers sets up jinja2 for chat templates. Each setting closes one difference between the
 * two engines that a real template trips over; ChatTemplateTest's corpus shows each of them.
 */
final class JinjaEngine {
  /** What a render may produce at most, a guard against a template that loops: far above any context length. */
  static final long MAX_OUTPUT_CHARS = 64L << 20;

  private JinjaEngine() {}

  static Jinjava create(Clock clock) {
    JinjavaConfig config = JinjavaConfig.newBuilder()
        // jinja2's trim_blocks and lstrip_blocks, as transformers sets them: a block tag eats the newline after it
        // and the spaces before it on its line. Templates are written for this (TinyLlama's puts each tag on a line).
        .withTrimBlocks(true)
        .withLstripBlocks(true)
        // On by default in Jinjava: a value that looks like a template ({{ ... }} in a user's message) is rendered
        // again. jinja2 never does that, and here it would let a client run template code.
        .withNestedInterpretationEnabled(false)
        .withLegacyOverrides(LegacyOverrides.newBuilder()
            // Jinja's precedence: in `'a' + x | trim + 'b'` the filter applies to x alone (Llama 3, Gemma).
            .withUseNaturalOperatorPrecedence(true)
            // {{- and -}} strip whitespace around expressions, and {#- #} around comments, as {%- %} does around
            // tags; without it Jinjava keeps the newlines and indentation of Llama 3.2's or Qwen2.5's template.
            .withUseTrimmingForNotesAndExpressions(true)
            // {%- and -%} are whitespace control only where jinja2's lexer sees it, not inside strings.
            .withParseWhitespaceControlStrictly(true)
            // Iterating over a dict yields its keys, as in Python.
            .withIterateOverMapKeys(true)
            // Lists and dicts print as Python prints them ({{ [1, 'a'] }} is [1, 'a']).
            .withUsePyishObjectMapper(true)
            .build())
        // Python's string methods before Java's namesakes; then Jinjava's read-only resolvers (read-only as in
        // transformers' ImmutableSandboxedEnvironment: a template cannot change the messages it is given).
        .withElResolver(new CompositeELResolver() {
          {
            add(new PythonSemantics.StringMethods());
            add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
          }
        })
        // Python prints a bool as True or False; Jinjava prints Java's true and false.
        .withInterperterFactory(new InterpreterFactory() {
          @Override
          public JinjavaInterpreter newInstance(JinjavaInterpreter orig) {
            return new PythonPrinting(orig);
          }

          @Override
          public JinjavaInterpreter newInstance(Jinjava application, Context context, JinjavaConfig renderConfig) {
            return new PythonPrinting(application, context, renderConfig);
          }
        })
        .withMaxOutputSize(MAX_OUTPUT_CHARS)
        .withDateTimeProvider(clock::millis)
        .withTimeZone(clock.getZone())
        .build();
    Jinjava jinjava = new JinjaPrecedenceJinjava(config);
    jinjava.registerFunction(function("raise_exception", "raiseException", Object.class));
    jinjava.registerFunction(function("strftime_now", "strftimeNow", String.class));
    // transformers replaces jinja2's tojson (which escapes HTML) with json.dumps; Jinjava's writes compact JSON.
    jinjava.registerFilter(new PythonSemantics.ToJsonFilter());
    // jinja2's trim strips Unicode whitespace as str.strip() does; Jinjava's only ASCII controls and space.
    jinjava.registerFilter(new PythonSemantics.TrimFilter());
    jinjava.registerTag(new GenerationTag());
    jinjava.registerTag(new PythonIfTag());
    jinjava.registerExpTest(new PythonCollectionTest("iterable"));
    jinjava.registerExpTest(new PythonCollectionTest("sequence"));
    jinjava.getGlobalContext().put("raise_exception", new GlobalFunction("raise_exception"));
    jinjava.getGlobalContext().put("strftime_now", new GlobalFunction("strftime_now"));
    return jinjava;
  }

  private static ELFunctionDefinition function(String name, String method, Class<?> parameter) {
    try {
      Method m = PythonSemantics.class.getMethod(method, parameter);
      // The class is package-private; the expression language calls the method reflectively.
      m.setAccessible(true);
      return new ELFunctionDefinition("", name, m);
    } catch (NoSuchMethodException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Jinjava with Jinja's expression semantics (SyntaxBuilder, PythonTruthConverter). Jinjava's parser (JUEL's)
   * binds {@code not} tightest, so {@code not x is defined} is {@code (not x) is defined}, always true, and
   * DeepSeek's {@code {% if not add_generation_prompt is defined %}} overwrote the caller's value. In Jinja
   * {@code not} binds looser than comparisons and tests: {@code not (x is defined)}, {@code not (a == b)}.
   */
  private static final class JinjaPrecedenceJinjava extends Jinjava {
    private final ExpressionFactory expressionFactory;

    JinjaPrecedenceJinjava(JinjavaConfig config) {
      super(config);
      // As Jinjava's own factory (the same features, cache size and type converter), with the parser below.
      this.expressionFactory = new ExpressionFactoryImpl(new TreeStore(new SyntaxBuilder(), new Cache(1000)),
          new PythonTruthConverter());
    }

    @Override
    public ExpressionFactory getExpressionFactory() {
      return expressionFactory;
    }
  }

  private static final class PythonPrinting extends JinjavaInterpreter {
    PythonPrinting(Jinjava application, Context context, JinjavaConfig config) {
      super(application, context, config);
    }

    PythonPrinting(JinjavaInterpreter orig) {
      super(orig);
    }

    @Override
    public String getAsString(Object object) {
      // None stays empty: Jinjava cannot tell it from an undefined name, which jinja2 prints empty too.
      return object instanceof Boolean b ? (b ? "True" : "False") : super.getAsString(object);
    }
  }

  /** Python's {@code and}: the first operand when it is false, else the second ({@code 'x' and 'y'} is 'y'). */
  private static final class PythonAnd implements AstBinary.Operator {
    @Override
    public Object eval(Bindings bindings, ELContext context, AstNode left, AstNode right) {
      Object l = left.eval(bindings, context);
      return PythonSemantics.truthy(l) ? right.eval(bindings, context) : l;
    }

    @Override
    public String toString() {
      return "and";
    }
  }

  /** Python's truth wherever an expression becomes a condition: {@code not}, {@code and}, {@code or}, if-else. */
  private static final class PythonTruthConverter extends TruthyTypeConverter {
    private static final long serialVersionUID = 1L;

    @Override
    protected Boolean coerceToBoolean(Object value) {
      return PythonSemantics.truthy(value);
    }
  }

  /** Python's truth for {@code {% if %}} and {@code {% elif %}}, which Jinjava's tag decides on its own. */
  private static final class PythonIfTag extends IfTag {
    private static final long serialVersionUID = 1L;

    @Override
    public boolean isPositiveIfElseNode(TagNode tagNode, JinjavaInterpreter interpreter) {
      return PythonSemantics.truthy(interpreter.resolveELExpression(tagNode.getHelpers(), tagNode.getLineNumber(),
          tagNode.getStartPosition()));
    }
  }

  /** Python's {@code ==} and {@code !=} (see {@link PythonSemantics#pyEquals}). */
  private static final class PythonEquality extends AstBinary.SimpleOperator {
    private final boolean negated;

    PythonEquality(boolean negated) {
      this.negated = negated;
    }

    @Override
    protected Object apply(TypeConverter converter, Object a, Object b) {
      return PythonSemantics.pyEquals(a, b) != negated;
    }

    @Override
    public String toString() {
      return negated ? "!=" : "==";
    }
  }

  /**
   * jinja2's {@code iterable} and {@code sequence} tests hold for strings and dicts too (Python iterates a string);
   * Jinjava's only for collections. Llama 3's template writes a tool message's text as JSON when it "is iterable".
   */
  private record PythonCollectionTest(String name) implements ExpTest {
    @Override
    public String getName() {
      return name;
    }

    @Override
    public boolean evaluate(Object var, JinjavaInterpreter interpreter, Object... args) {
      return var instanceof CharSequence || var instanceof Iterable<?> || var instanceof Map<?, ?>
          || (var != null && var.getClass().isArray());
    }
  }

  /**
   * What {@code strftime_now} and {@code raise_exception} are as names. Jinjava's functions are not variables, so
   * {@code strftime_now is defined} (Llama 3.2 asks) would be false; in transformers they are globals.
   */
  private record GlobalFunction(String name) {
    @Override
    public String toString() {
      return "<function " + name + ">";
    }
  }

  /**
   * Jinja's expression grammar where JUEL's differs: {@code not} binds looser than comparisons and tests, and
   * {@code ==} and {@code and} are Python's.
   */
  private static final class SyntaxBuilder extends ExtendedSyntaxBuilder {
    private static final long serialVersionUID = 1L;
    private static final AstBinary.Operator EQUALS = new PythonEquality(false);
    private static final AstBinary.Operator NOT_EQUALS = new PythonEquality(true);
    private static final AstBinary.Operator AND = new PythonAnd();

    SyntaxBuilder() {
      super(Builder.Feature.METHOD_INVOCATIONS, Builder.Feature.VARARGS);
    }

    @Override
    protected Parser createParser(String expression) {
      return new ExtendedParser(this, expression) {
        @Override
        protected AstNode and(boolean required) throws Scanner.ScanException, ParseException {
          AstNode v = eq(required);
          if (v == null) {
            return null;
          }
          while (getToken().getSymbol() == Scanner.Symbol.AND) {
            consumeToken();
            v = createAstBinary(v, eq(true), AND);
          }
          return v;
        }

        @Override
        protected AstNode eq(boolean required) throws Scanner.ScanException, ParseException {
          if (getToken().getSymbol() == Scanner.Symbol.NOT) {
            consumeToken();
            return createAstUnary(eq(true), AstUnary.NOT);
          }
          AstNode v = cmp(required);
          if (v == null) {
            return null;
          }
          while (true) {
            switch (getToken().getSymbol()) {
              case EQ -> {
                consumeToken();
                v = createAstBinary(v, cmp(true), EQUALS);
              }
              case NE -> {
                consumeToken();
                v = createAstBinary(v, cmp(true), NOT_EQUALS);
              }
              default -> {
                return v;
              }
            }
          }
        }
      };
    }
  }

  /**
   * transformers' {@code {% generation %}...{% endgeneration %}}, which marks the assistant's tokens for training
   * masks: for rendering it is its body.
   */
  private static final class GenerationTag implements Tag {
    private static final long serialVersionUID = 1L;

    @Override
    public String getName() {
      return "generation";
    }

    @Override
    public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
      LengthLimitingStringBuilder out = new LengthLimitingStringBuilder(interpreter.getConfig().getMaxOutputSize());
      for (Node child : tagNode.getChildren()) {
        out.append(child.render(interpreter).getValue());
      }
      return out.toString();
    }
  }
}
