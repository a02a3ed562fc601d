using System.CommandLine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using Spectre.Console;
using StyleFilter.Cli;

return Cli.Execute(args);

namespace StyleFilter.Cli
{
    public static class ExitCodes
    {
        public const int Ok = 0;
        public const int Failure = 1;
        public const int BadArguments = 2;
    }

    /// <summary>A failure the CLI explains in one line; the message is what the user sees after "error: ".</summary>
    public sealed class CliException(string message, int exitCode = ExitCodes.Failure) : Exception(message)
    {
        public int ExitCode { get; } = exitCode;
    }

    public static class Cli
    {
        public static readonly Option<bool> Verbose = new("--verbose", "-v")
        {
            Description = "Log engine details and print stack traces on errors",
            Recursive = true,
        };

        /// <summary>Colour only on a terminal (never in captured logs), and not when NO_COLOR is set.</summary>
        private static readonly bool ColourErrors = !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null;

        public static int Execute(string[] args)
        {
            var root = new RootCommand("StyleFilter: neural style transfer for video and images")
            {
                RenderCommand.Create(),
                StylesCommand.Create(),
                BenchCommand.Create(),
                SampleClipCommand.Create(),
            };
            root.Options.Add(Verbose);
            // Piped output (CI logs, tests): no terminal width to follow, keep table rows on one line.
            if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 240;

            var parse = root.Parse(args);
            if (parse.Errors.Count > 0)
            {
                foreach (var e in parse.Errors) PrintError(e.Message);
                Console.Error.WriteLine("see 'stylefilter --help'");
                return ExitCodes.BadArguments;
            }
            return parse.Invoke();
        }

        /// <summary>Runs a command body: every failure becomes one red "error: ..." line and an exit code, never a stack trace.</summary>
        public static int Run(ParseResult parse, Func<int> body)
        {
            var verbose = parse.GetValue(Verbose);
            try
            {
                return body();
            }
            catch (Exception ex)
            {
                var (message, code) = Describe(ex);
                PrintError(message);
                if (verbose) Console.Error.WriteLine(ex.ToString());
                return code;
            }
        }

        public static (string Message, int ExitCode) Describe(Exception ex) => ex switch
        {
            CliException c => (c.Message, c.ExitCode),
            StyleFilterException s => (s.Message, s.Code is StatusCode.InvalidArgument or StatusCode.ModelError or StatusCode.NoStyle
                ? ExitCodes.BadArguments : ExitCodes.Failure),
            NotImplementedException => ("the style engine is not implemented in this build", ExitCodes.Failure),
            _ => ($"{ex.GetType().Name}: {ex.Message}", ExitCodes.Failure),
        };

        /// <summary>One unwrapped line on stderr (red on a terminal), so messages and paths stay greppable.</summary>
        public static void PrintError(string message)
        {
            message = "error: " + message.ReplaceLineEndings(" ");
            Console.Error.WriteLine(ColourErrors ? $"\u001b[31m{message}\u001b[0m" : message);
        }

        /// <summary>
        /// Console logging on stderr: warnings by default, Information and up with --verbose. The engine's own Error
        /// logs only show with --verbose: each comes with an exception that the CLI reports as its "error:" line.
        /// </summary>
        public static ILoggerFactory CreateLoggerFactory(ParseResult parse)
        {
            var verbose = parse.GetValue(Verbose);
            return LoggerFactory.Create(b => b
                .SetMinimumLevel(verbose ? LogLevel.Information : LogLevel.Warning)
                .AddFilter((_, level) => verbose || level == LogLevel.Warning)
                .AddConsoleFormatter<BriefFormatter, BriefFormatterOptions>(o => o.FullExceptions = verbose)
                .AddConsole(o =>
                {
                    o.FormatterName = BriefFormatter.FormatterName;
                    o.LogToStandardErrorThreshold = LogLevel.Trace;
                }));
        }

        /// <summary>Builds the engine with the style loaded; a style that is neither a file nor bundled fails before ONNX Runtime loads.</summary>
        public static StyleEngine CreateEngine(string style, int threads, ILoggerFactory loggers, ExecutionDevice device = ExecutionDevice.Auto,
            ModelTier tier = ModelTier.Auto)
        {
            if (threads < 0) throw new CliException("--threads must be 0 (automatic) or more", ExitCodes.BadArguments);
            var resolved = StyleCatalog.Resolve(style);
            var engine = new StyleEngine(new EngineOptions { IntraOpThreads = threads, Device = device, Tier = tier }, loggers);
            try
            {
                engine.LoadStyle(style);
            }
            catch (StyleFilterException ex)
            {
                engine.Dispose();
                // Make sure the user sees which model failed.
                if (ex.Message.Contains(resolved, StringComparison.Ordinal) || ex.Message.Contains(style, StringComparison.Ordinal)) throw;
                throw new StyleFilterException(ex.Code, $"cannot load style '{resolved}': {ex.Message}", ex);
            }
            catch (Exception)
            {
                engine.Dispose();
                throw;
            }
            return engine;
        }

        public static Option<ExecutionDevice> DeviceOption() => new("--device")
        {
            Description = "Where models run: Auto, Cpu, Cuda, TensorRT or DirectML (an unavailable one falls back, and the output says why)",
            DefaultValueFactory = _ => ExecutionDevice.Auto,
        };

        public static Option<ModelTier> TierOption() => new("--tier")
        {
            Description = "Which network of the style: Auto (Fast on the CPU, Full on a GPU, where the style has them), Fast, Compact or Full",
            DefaultValueFactory = _ => ModelTier.Auto,
        };

        public static void CheckRange(string option, float? value, float min, float max, bool minExclusive = false)
        {
            if (value is not { } v) return;
            if (float.IsNaN(v) || v > max || (minExclusive ? v <= min : v < min))
                throw new CliException($"{option} must be in {(minExclusive ? "(" : "[")}{min}, {max}], got {v}", ExitCodes.BadArguments);
        }

        /// <summary>The repository's assets/content folder: walks up from the current directory and from the app folder to StyleFilter.sln.</summary>
        public static string ContentFolder()
        {
            foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
                for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                    if (File.Exists(Path.Combine(dir.FullName, "StyleFilter.sln")))
                    {
                        var content = Path.Combine(dir.FullName, "assets", "content");
                        if (Directory.Exists(content)) return content;
                    }
            throw new CliException("cannot find assets/content (run inside the StyleFilter repository, or pass a picture explicitly)", ExitCodes.BadArguments);
        }

        public static string ContentImage(string name) => Path.Combine(ContentFolder(), name);
    }

    public sealed class BriefFormatterOptions : ConsoleFormatterOptions
    {
        public bool FullExceptions { get; set; }
    }

    /// <summary>"warn: Category: message" lines; exceptions as one line unless --verbose (no stack traces by default).</summary>
    public sealed class BriefFormatter(IOptionsMonitor<BriefFormatterOptions> options) : ConsoleFormatter(FormatterName)
    {
        public const string FormatterName = "brief";

        public override void Write<TState>(in LogEntry<TState> entry, IExternalScopeProvider? scopeProvider, TextWriter writer)
        {
            var message = entry.Formatter?.Invoke(entry.State, entry.Exception) ?? entry.State?.ToString() ?? "";
            var level = entry.LogLevel switch
            {
                LogLevel.Trace => "trce",
                LogLevel.Debug => "dbug",
                LogLevel.Information => "info",
                LogLevel.Warning => "warn",
                LogLevel.Error => "fail",
                _ => "crit",
            };
            var category = entry.Category.StartsWith("StyleFilter.", StringComparison.Ordinal) ? entry.Category["StyleFilter.".Length..] : entry.Category;
            writer.Write($"{level}: {category}: {message}");
            if (entry.Exception is { } ex)
                writer.Write(options.CurrentValue.FullExceptions ? Environment.NewLine + ex : $" ({ex.GetType().Name}: {ex.Message})");
            writer.WriteLine();
        }
    }
}
