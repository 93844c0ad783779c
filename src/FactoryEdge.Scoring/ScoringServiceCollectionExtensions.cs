using FactoryEdge.Core;
using FactoryEdge.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FactoryEdge.Scoring;

public static class ScoringServiceCollectionExtensions
{
    /// <summary>
    /// Registers ONNX scoring from <c>FactoryEdge:Scoring</c> (validated at start, unknown keys
    /// refused). With at least one assignment the <see cref="OnnxAnomalyScorer"/> becomes the
    /// pipeline's <see cref="IAnomalyScorer"/> (whether this is called before or after
    /// <c>AddFactoryEdgePipeline</c>), with the statistical baseline as fallback for unassigned
    /// channels, and <see cref="ModelManager"/> watches the models folder. Without assignments only
    /// the options are registered and the baseline keeps scoring.
    /// </summary>
    public static IServiceCollection AddFactoryEdgeScoring(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<ScoringOptions>()
            .Bind(configuration.GetSection(ScoringOptions.SectionName), o => o.ErrorOnUnknownConfiguration = true)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ScoringOptions>, ScoringOptionsValidator>());
        if (!configuration.GetSection(ScoringOptions.SectionName + ":Assignments").GetChildren().Any())
        {
            return services;
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ScoringOptions>>().Value;
            var pipeline = sp.GetService<IOptions<PipelineOptions>>()?.Value ?? new PipelineOptions();
            var fallback = options.FallbackToBaseline ? new StatisticalBaselineScorer(pipeline.Baseline) : null;
            var logger = sp.GetService<ILoggerFactory>()?.CreateLogger<OnnxAnomalyScorer>();
            return new OnnxAnomalyScorer(
                options.Assignments.Select(a => new ModelAssignment(a.Channels, a.Model)),
                pipeline.WindowSize, fallback, pipeline.Alerts.RaiseAfter, logger);
        });
        services.RemoveAll<IAnomalyScorer>();
        services.AddSingleton<IAnomalyScorer>(sp => sp.GetRequiredService<OnnxAnomalyScorer>());
        services.TryAddSingleton(sp => new ModelManager(
            sp.GetRequiredService<OnnxAnomalyScorer>(), sp.GetRequiredService<IOptions<ScoringOptions>>(),
            sp.GetService<TimeProvider>(), sp.GetService<ILogger<ModelManager>>()));
        services.AddHostedService(sp => sp.GetRequiredService<ModelManager>());
        return services;
    }
}
