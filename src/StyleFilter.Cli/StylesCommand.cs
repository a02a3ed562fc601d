using System.CommandLine;
using Spectre.Console;

namespace StyleFilter.Cli;

/// <summary>stylefilter styles: the bundled styles (title, artist, year), the name that picks each one with --style, and
/// the network sizes (tiers) it has: fast (the CPU tier), compact, full.</summary>
public static class StylesCommand
{
    public static Command Create()
    {
        var command = new Command("styles", "List the bundled styles");
        command.SetAction(parse => Cli.Run(parse, () =>
        {
            var styles = StyleCatalog.List();
            if (styles.Count == 0)
            {
                var searched = StyleCatalog.SearchDirectories();
                AnsiConsole.MarkupLine("[yellow]No bundled styles found.[/]");
                AnsiConsole.MarkupLine(Markup.Escape(searched.Count == 0
                    ? $"Looked for a 'models' folder beside {AppContext.BaseDirectory} (none exists); set STYLEFILTER_MODELS to a folder of styles."
                    : $"Searched: {string.Join(", ", searched)}"));
                AnsiConsole.MarkupLine("Any .onnx model, pack folder or .zip pack can still be used with [bold]--style PATH[/].");
                return ExitCodes.Ok;
            }
            var table = new Table().AddColumn("Style").AddColumn("Artist").AddColumn("Year").AddColumn("--style").AddColumn("Networks").AddColumn("Kind").AddColumn("Path");
            foreach (var s in styles)
                table.AddRow(Markup.Escape(s.Title), Markup.Escape(s.Artist ?? ""), Markup.Escape(s.Year ?? ""), Markup.Escape(s.Name),
                    string.Join(", ", s.Tiers.Select(t => t.ToString().ToLowerInvariant())),
                    s.Kind == StyleModelKind.SplitPack ? "pack" : "single graph", Markup.Escape(s.Path));
            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
