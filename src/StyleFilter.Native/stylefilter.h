/*
 * stylefilter.h - the C interface of the StyleFilter engine (neural style transfer for live video).
 *
 * This header is the contract between the engine library (stylefilter.so / stylefilter.dll, built with
 * .NET NativeAOT from src/StyleFilter.Native) and its hosts (the OBS filter, the OpenFX plugin, tests).
 * It is plain C99 and may be included from C++.
 *
 * General rules
 * - Every function except sf_abi_version and sf_last_error returns an sf_status. No function throws, aborts
 *   or longjmps across the boundary; any failure, including an unexpected internal one, comes back as a
 *   status, and sf_last_error() then gives a readable message.
 * - Thread safety: every function may be called from any thread. Calls on distinct engines run in
 *   parallel. On one engine, frames are processed one at a time (a second process call waits for the
 *   first); parameter changes never wait for a frame and apply from the next one; sf_engine_load_style
 *   builds the new style while the old one keeps serving frames and swaps it in between frames.
 *   sf_engine_destroy waits for a frame in progress; calls that race with it fail with
 *   SF_ERR_INVALID_HANDLE. The host must not use a handle after sf_engine_destroy has returned, other than
 *   to get that error back.
 * - Handles are checked: a call with a destroyed, never-created or NULL engine returns
 *   SF_ERR_INVALID_HANDLE instead of crashing (handle values are never reused within a process).
 * - Strings passed in and out are UTF-8 and NUL-terminated.
 * - Structs that carry a struct_size member are versioned: set struct_size = sizeof(the struct) from the
 *   header you compiled against. Fields are only ever appended, so a newer library accepts an older
 *   (smaller) struct, and a smaller struct_size than the version-1 layout is rejected. The library reads
 *   struct_size first and nothing beyond it until it knows the struct is that large.
 *
 * Limits a host can rely on (model files are untrusted input: a downloaded style must not hang, crash or
 * poison a host)
 * - Frames: any size from 1x1 to 16384x16384. Inference never runs below 32 pixels on a side (tiny and
 *   thin frames are scaled up for the network and back), so every size at every inference scale works.
 * - Float frames (SF_FORMAT_RGBA32F): NaN and -inf channels are read as 0, +inf as 1, and finite values are
 *   bounded to +-65504, so no input value reaches the temporal history as NaN or inf.
 * - A model whose output (or, for a pack, whose features) holds NaN or inf fails: at sf_engine_load_style,
 *   which runs each new style once on a 64x64 test picture, or at the frame (SF_ERR_MODEL, pass-through,
 *   history reset; logged once per new reason).
 * - Time: the load-time test picture may take 10 s and one frame's inference 30 s; a run that takes longer is
 *   stopped (SF_ERR_MODEL at load, SF_ERR_RUNTIME with pass-through at a frame).
 * - Files: a model path must be a folder or a non-empty regular file (FIFOs, sockets and devices are refused
 *   without being opened) of at most 1 GiB; a zip entry may unpack to at most 1 GiB and manifest.json to 1 MiB;
 *   the files a pack's manifest names must be plain file names inside the pack (a symlink may point to another
 *   file of the pack, not out of it). Anything else is SF_ERR_MODEL naming the file.
 * - Memory: ONNX Runtime's CPU memory for all engines of the process together is capped at half the machine's
 *   memory, at least 2 GiB and at most 4 GiB (the largest arena ONNX Runtime's C# API configures); a model
 *   that asks for more fails that run (at load, SF_ERR_MODEL) instead of driving the host into the
 *   out-of-memory killer.
 * - Threads: sf_engine_options.intra_op_threads above the number of logical processors is lowered to it.
 */
#ifndef STYLEFILTER_H
#define STYLEFILTER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Import/export decoration of the public functions (nothing needed on Linux/macOS). */
#if defined(_WIN32) && !defined(SF_STATIC)
#define SF_API __declspec(dllimport)
#else
#define SF_API
#endif

/**
 * Version of the interface described by this header. It changes whenever a function, struct layout or
 * constant changes incompatibly. Hosts compare it with sf_abi_version() after loading the library and
 * refuse to use a library that reports a different number.
 */
#define SF_ABI_VERSION 1

/** Opaque engine handle: one loaded style, its parameters and the temporal history of one video stream. */
typedef struct sf_engine sf_engine;

/** Status of a call. The numbers equal the engine's StatusCode (src/StyleFilter.Managed/Errors.cs). */
typedef enum sf_status {
    /** Success. */
    SF_OK = 0,
    /** An argument is invalid: NULL pointer, unknown enum value, bad size, stride, struct_size or value. */
    SF_ERR_INVALID_ARGUMENT = 1,
    /** A style model could not be found, read or used (missing file, corrupt ONNX, wrong shape). */
    SF_ERR_MODEL = 2,
    /** The inference runtime failed (ONNX Runtime missing or failing, execution provider unavailable). */
    SF_ERR_RUNTIME = 3,
    /** The engine handle is NULL, unknown or already destroyed. */
    SF_ERR_INVALID_HANDLE = 4,
    /** The call needs a style and none is loaded (sf_engine_process_* still writes a pass-through copy). */
    SF_ERR_NO_STYLE = 5,
    /** The operation is not supported by this build or on this platform. */
    SF_ERR_UNSUPPORTED = 6,
    /** An unexpected internal error (a bug); sf_last_error() says what happened. */
    SF_ERR_INTERNAL = 7
} sf_status;

/** Pixel layout of a CPU frame. The numbers equal the engine's PixelFormat. */
typedef enum sf_pixel_format {
    /** 8 bits per channel, bytes in memory R, G, B, A (4 bytes per pixel). */
    SF_FORMAT_RGBA8 = 1,
    /** 8 bits per channel, bytes in memory B, G, R, A (4 bytes per pixel). */
    SF_FORMAT_BGRA8 = 2,
    /** 32-bit float per channel R, G, B, A, nominal range 0..1 (16 bytes per pixel; stride a multiple of 4). */
    SF_FORMAT_RGBA32F = 3
} sf_pixel_format;

/** Engine parameters for sf_engine_set_param / sf_engine_get_param. Values are passed as double. */
typedef enum sf_param {
    /** Strength of the style, 0 (input unchanged) .. 1 (fully stylized). Default 1. */
    SF_PARAM_ALPHA = 1,
    /** Temporal smoothing strength, 0 (none) .. 1 (strongest); reduces flicker on still regions. */
    SF_PARAM_SMOOTHING = 2,
    /** Colour preservation: 1 keeps the input's colours and takes the stylized luminance, 0 turns it off. */
    SF_PARAM_PRESERVE_COLOUR = 3,
    /** Inference resolution as a fraction of the frame size, 0 < value <= 1 (smaller is faster); the inference
     *  size never goes below 32 pixels on a side, so any positive value is valid. */
    SF_PARAM_INFERENCE_SCALE = 4,
    /**
     * Preferred execution device, one of sf_device (as a whole number). It takes effect on the next
     * sf_engine_load_style. SF_DEVICE_AUTO tries TensorRT, CUDA, DirectML, then the CPU; a device that is
     * not available (its provider library or driver is missing) falls back to the CPU, and the log says
     * why. sf_stats.provider names the provider in use.
     */
    SF_PARAM_DEVICE = 5,
    /**
     * Motion compensation of the temporal smoothing: 1 (the default) warps the smoothing's history along the
     * camera's estimated motion (pan, zoom, roll) before blending, so a moving camera is smoothed as a still one
     * is; 0 smooths only where nothing moved. Uses only the frames the engine has already processed.
     * Added to ABI version 1 after its first release: an older engine library answers SF_ERR_INVALID_ARGUMENT.
     */
    SF_PARAM_MOTION_COMPENSATION = 6,
    /**
     * Which network size of a style to load, one of sf_tier (as a whole number). It takes effect on the next
     * sf_engine_load_style. A style the size is missing for loads the size it has, and the log says so.
     */
    SF_PARAM_NETWORK_TIER = 7
} sf_param;

/** A style's network size. The numbers equal the engine's ModelTier. */
typedef enum sf_tier {
    /** The fast network on the CPU and the full one on a GPU, where the style has them; else its own. */
    SF_TIER_AUTO = 0,
    /** The CPU tier: real time on a CPU, a lighter picture. */
    SF_TIER_FAST = 1,
    /** The network every bundled style has. */
    SF_TIER_COMPACT = 2,
    /** The wide network, for GPUs. */
    SF_TIER_FULL = 3
} sf_tier;

/** Where inference runs. The numbers equal the engine's ExecutionDevice. */
typedef enum sf_device {
    /** Let the engine choose (the best available GPU provider, else the CPU). */
    SF_DEVICE_AUTO = 0,
    /** ONNX Runtime's CPU provider. */
    SF_DEVICE_CPU = 1,
    /** NVIDIA CUDA provider. */
    SF_DEVICE_CUDA = 2,
    /** NVIDIA TensorRT provider. */
    SF_DEVICE_TENSORRT = 3,
    /** DirectML provider (Windows). */
    SF_DEVICE_DIRECTML = 4
} sf_device;

/** Severity of a log message passed to the sf_log_fn callback (smaller is more severe). */
typedef enum sf_log_level {
    /** Something failed (a model did not load, a frame fell back to pass-through). */
    SF_LOG_ERROR = 1,
    /** Something unexpected that the engine worked around. */
    SF_LOG_WARNING = 2,
    /** Normal events: engine created, style loaded, provider chosen. */
    SF_LOG_INFO = 3,
    /** Details for diagnosing problems (includes trace output). */
    SF_LOG_DEBUG = 4
} sf_log_level;

/** Graphics API of an sf_texture. */
typedef enum sf_texture_api {
    /** handle is an OpenGL texture name (GLuint) in the context current on the calling thread. */
    SF_TEXTURE_OPENGL = 1,
    /** handle is an ID3D11Texture2D pointer. */
    SF_TEXTURE_D3D11 = 2,
    /** handle is a CUDA device pointer to a packed image (stride = width * bytes per pixel). */
    SF_TEXTURE_CUDA = 3
} sf_texture_api;

/**
 * Options fixed at engine creation. Pass NULL to sf_engine_create for the defaults (the same as all
 * fields zero/NULL).
 */
typedef struct sf_engine_options {
    /** Set to sizeof(sf_engine_options). */
    uint32_t struct_size;
    /**
     * Full path of the ONNX Runtime library (UTF-8), or NULL to search: the STYLEFILTER_ORT_LIBRARY
     * environment variable, then beside the engine library, then beside the application, then the system
     * loader. ONNX Runtime is loaded once per process, so only the first engine's choice counts (a path where
     * no ONNX Runtime is found fails with SF_ERR_RUNTIME and leaves the choice open).
     */
    const char* ort_library_path;
    /** Threads ONNX Runtime may use inside one operator: 0 lets it choose, 1 .. 1024 asks for that many (at most
     *  the number of logical processors are used). Other values give SF_ERR_INVALID_ARGUMENT. */
    int32_t intra_op_threads;
    /** Preferred execution device, one of sf_device. */
    int32_t device;
} sf_engine_options;

/** An image in CPU memory. */
typedef struct sf_frame {
    /** First byte of the top row. Must not be NULL. */
    void* data;
    /** Width in pixels, 1 .. 16384. */
    int32_t width;
    /** Height in pixels, 1 .. 16384. */
    int32_t height;
    /** Bytes from the start of one row to the start of the next; at least width * bytes per pixel. */
    int32_t stride;
    /** One of sf_pixel_format. */
    int32_t format;
} sf_frame;

/** An image in GPU memory (see sf_engine_process_texture). */
typedef struct sf_texture {
    /** One of sf_texture_api. */
    int32_t api;
    /** The texture: an OpenGL name, an ID3D11Texture2D* or a CUDA device pointer, as api says. */
    uint64_t handle;
    /** Width in pixels. */
    int32_t width;
    /** Height in pixels. */
    int32_t height;
    /** One of sf_pixel_format. */
    int32_t format;
    /** The host's cudaStream_t to order the work on, or NULL for the engine's own stream. */
    void* cuda_stream;
} sf_texture;

/** What an engine has done so far (see sf_engine_get_stats). Latencies cover whole process calls. */
typedef struct sf_stats {
    /** Set to sizeof(sf_stats) before the call. */
    uint32_t struct_size;
    /** Process calls that got past argument checks, pass-through frames included. */
    uint64_t frames;
    /** Mean latency of a process call, in milliseconds. */
    double mean_ms;
    /** Median latency, in milliseconds. */
    double p50_ms;
    /** 99th-percentile latency, in milliseconds. */
    double p99_ms;
    /**
     * Times the temporal history restarted on its own: a detected scene cut or a change of frame size.
     * Explicit sf_engine_reset_history calls and style loads are not counted.
     */
    uint64_t history_resets;
    /** Frames that were returned unchanged because no style was loaded or inference failed. */
    uint64_t pass_through_frames;
    /** Execution provider in use, e.g. "CPU" (UTF-8, NUL-terminated, truncated to fit). */
    char provider[32];
} sf_stats;

/**
 * What users see of a style (see sf_get_style_info). Strings are UTF-8 and NUL-terminated, truncated to fit
 * (never inside a character); "" when unknown. Versioned by struct_size like sf_stats: later fields are appended.
 */
typedef struct sf_style_info {
    /** Set to sizeof(sf_style_info) before the call. */
    uint32_t struct_size;
    /** The id: the name sf_list_styles lists and sf_engine_load_style takes (the file or folder name without
     *  extension). Store this, not the title, in a host's saved settings. */
    char id[256];
    /** Name to show: a style pack's manifest "title", else its "name"; the id for a single .onnx file. */
    char title[256];
    /** The painter, from the manifest's "artist"; "" when not given. */
    char artist[128];
    /** When the painting was made, as the manifest's "year" writes it (e.g. "1889", "c. 1831"); "" when not given. */
    char year[32];
} sf_style_info;

/**
 * Log callback. level is one of sf_log_level; message is UTF-8 and valid only during the call. It may be
 * called on any thread, including the engine's inference threads, so it must be thread-safe and quick,
 * and it must not call back into the library.
 */
typedef void (*sf_log_fn)(void* user, int32_t level, const char* message);

/** Returns the ABI version of the loaded library; compare it with SF_ABI_VERSION. Never fails. */
SF_API uint32_t sf_abi_version(void);

/**
 * Message describing the last failed call on the calling thread, or "" when the last call succeeded.
 * The string belongs to the library and stays valid until the next sf_ call on this thread. Never NULL.
 */
SF_API const char* sf_last_error(void);

/**
 * Installs the process-wide log callback (replacing any previous one) for messages of level min_level
 * (one of sf_log_level) and more severe; fn = NULL removes it (min_level is then ignored). Without a
 * callback, errors and warnings are written to stderr prefixed "[stylefilter]". ONNX Runtime's own messages
 * take the same way, prefixed "ONNX Runtime: ", at SF_LOG_INFO (the engine reports each failure itself as an
 * error, with the file and what it did about it); ONNX Runtime never writes to stderr by itself.
 */
SF_API sf_status sf_set_log_callback(sf_log_fn fn, void* user, int32_t min_level);

/**
 * Creates an engine. options may be NULL for the defaults. On success *out receives the handle; on
 * failure *out is set to NULL (when out is not NULL). Fails with SF_ERR_RUNTIME when ONNX Runtime cannot
 * be loaded.
 */
SF_API sf_status sf_engine_create(const sf_engine_options* options, sf_engine** out);

/**
 * Destroys an engine, waiting for a frame in progress on it. Afterwards the handle is invalid
 * (SF_ERR_INVALID_HANDLE, including for a second destroy).
 */
SF_API sf_status sf_engine_destroy(sf_engine* engine);

/**
 * Loads a style: a path to an .onnx file, a style pack folder or .zip (UTF-8), or the name of a bundled
 * style (see sf_list_styles). On failure the previous style, if any, stays loaded and the error is
 * SF_ERR_MODEL (missing or unusable model) or SF_ERR_RUNTIME. Resets the temporal history on success.
 */
SF_API sf_status sf_engine_load_style(sf_engine* engine, const char* name_or_path);

/**
 * Sets a parameter (one of sf_param). Ranges are checked on the double as passed (1.0000000001 is not a
 * valid alpha, even though it rounds to 1.0f). Out-of-range, NaN or infinite values, non-integral values for
 * SF_PARAM_PRESERVE_COLOUR (0 or 1) and SF_PARAM_DEVICE (an sf_device), and unknown ids give
 * SF_ERR_INVALID_ARGUMENT and leave the parameter unchanged.
 */
SF_API sf_status sf_engine_set_param(sf_engine* engine, int32_t param, double value);

/** Reads a parameter (one of sf_param) into *value. */
SF_API sf_status sf_engine_get_param(sf_engine* engine, int32_t param, double* value);

/**
 * Stylizes one frame from CPU memory. in and out must have the same width and height; their formats and
 * strides may differ, and they may be the same memory (in-place). Without a style the output receives a
 * copy of the input (pass-through, converted to the output format) and the status is SF_ERR_NO_STYLE;
 * when inference fails the output likewise holds the pass-through copy and the status is an error.
 * Invalid descriptions (NULL pointers, bad size, stride or format) give SF_ERR_INVALID_ARGUMENT and leave
 * the output untouched.
 */
SF_API sf_status sf_engine_process_cpu(sf_engine* engine, const sf_frame* in, const sf_frame* out);

/**
 * Stylizes a GPU texture into another. Not implemented yet: returns SF_ERR_UNSUPPORTED (after checking
 * the handle); hosts read the texture back and use sf_engine_process_cpu.
 */
SF_API sf_status sf_engine_process_texture(sf_engine* engine, const sf_texture* in, const sf_texture* out);

/** Forgets the previous frames (call it on a seek or a scene cut) so temporal smoothing starts afresh. */
SF_API sf_status sf_engine_reset_history(sf_engine* engine);

/** Fills *out (whose struct_size the caller has set) with the engine's statistics. Never waits for a frame in progress. */
SF_API sf_status sf_engine_get_stats(sf_engine* engine, sf_stats* out);

/**
 * Lists the bundled styles: their ids (file or folder names, sorted) separated by '\n' and NUL-terminated ("" when
 * there are none); sf_get_style_info gives the title to show users for each.
 * *needed (if needed is not NULL) receives the bytes required including the NUL. buffer may be NULL (with
 * any size) to query the size only. A buffer that is too small gives SF_ERR_INVALID_ARGUMENT (with
 * *needed set and buffer[0] = NUL when size > 0). needed must not be NULL when buffer is NULL.
 */
SF_API sf_status sf_list_styles(char* buffer, size_t size, size_t* needed);

/**
 * Fills *out (whose struct_size the caller has set) with what users see of a style: a bundled style's id
 * (as sf_list_styles lists it) or a path, as for sf_engine_load_style. Reads only the pack's manifest, never
 * the model. SF_ERR_MODEL when no such style exists.
 * Added to ABI version 1 after its first release: a host that must also work with an older engine library
 * looks it up at run time (dlsym) and, when it is missing, shows the ids of sf_list_styles instead.
 */
SF_API sf_status sf_get_style_info(const char* name_or_path, sf_style_info* out);

/**
 * Can this machine run inference on `device` (one of sf_device)? SF_OK when it can (always for SF_DEVICE_AUTO and
 * SF_DEVICE_CPU); SF_ERR_UNSUPPORTED when it cannot, with the reason a user can act on written into reason (UTF-8,
 * NUL-terminated, truncated to fit, never inside a character), e.g. "DirectML exists on Windows only" or
 * "libonnxruntime_providers_cuda.so is not installed beside ONNX Runtime"; SF_ERR_INVALID_ARGUMENT for a number that
 * is not an sf_device; SF_ERR_RUNTIME when ONNX Runtime cannot be loaded. reason may be NULL when size is 0; on
 * SF_OK it receives "". The first query of a GPU device loads its provider library (once per process), which can
 * take a second: hosts call it off their UI thread.
 * Added to ABI version 1 after its first release: a host that must also work with an older engine library looks it
 * up at run time (dlsym) and, when it is missing, offers every device (the engine falls back to the CPU).
 */
SF_API sf_status sf_device_status(int32_t device, char* reason, size_t size);

/**
 * Copies the loaded style's name (NUL-terminated) into buffer; "" when no style is loaded: the title for a style
 * pack (as sf_style_info.title), the file name without extension for a single .onnx file. A buffer too small for
 * the name gives SF_ERR_INVALID_ARGUMENT (buffer[0] = NUL when size > 0; nothing is truncated). 256 bytes are
 * enough in practice.
 */
SF_API sf_status sf_engine_get_style_name(sf_engine* engine, char* buffer, size_t size);

/**
 * Number of styles the loaded model can mix (multi-style models; see sf_engine_set_style_mix) into
 * *count; 0 when the model has a single style or no style is loaded.
 */
SF_API sf_status sf_engine_get_style_mix_count(sf_engine* engine, int32_t* count);

/**
 * Sets the mix of a multi-style model: count weights (count must equal sf_engine_get_style_mix_count),
 * finite, >= 0 and not all 0; they are normalised to sum 1. Applies from the next frame. A newly loaded
 * style starts on its first style. SF_ERR_UNSUPPORTED when the model has no style mix, SF_ERR_NO_STYLE
 * when no style is loaded.
 */
SF_API sf_status sf_engine_set_style_mix(sf_engine* engine, const float* weights, int32_t count);

/**
 * Copies the name of mixable style `index` (0 <= index < sf_engine_get_style_mix_count) into buffer,
 * NUL-terminated, for a host's labels. A buffer too small gives SF_ERR_INVALID_ARGUMENT (nothing is truncated).
 */
SF_API sf_status sf_engine_get_style_mix_name(sf_engine* engine, int32_t index, char* buffer, size_t size);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* STYLEFILTER_H */
