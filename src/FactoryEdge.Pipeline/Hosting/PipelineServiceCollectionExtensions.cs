using FactoryEdge.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace FactoryEdge.Pipeline.Hosting;

public static class PipelineServiceCollectionExtensions
{
    /// <summary>
    /// Registers the pipeline: options from <c>FactoryEdge:Pipeline</c> validated at start, the
    /// statistical baseline scorer unless another <see cref="IAnomalyScorer"/> is registered, and the
    /// hosted service that runs every registered <see cref="ISensorSource"/> through it.
    /// </summary>
    public static IServiceCollection AddFactoryEdgePipeline(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<PipelineOptions>()
            .Bind(configuration.GetSection(PipelineOptions.SectionName), o => o.ErrorOnUnknownConfiguration = true)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PipelineOptions>, PipelineOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IAnomalyScorer>(sp => new StatisticalBaselineScorer(sp.GetRequiredService<IOptions<PipelineOptions>>().Value.Baseline));
        services.TryAddSingleton<PipelineHostedService>();
        services.AddHostedService(sp => sp.GetRequiredService<PipelineHostedService>());
        return services;
    }
}
