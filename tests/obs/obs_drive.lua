-- obs_drive.lua - drives a headless OBS Studio for the test scripts (loaded through the scene
-- collection's "scripts-tool" module). What it does comes from environment variables, in seconds
-- after the script is loaded:
--   SF_DRIVE_RECORD_AT, SF_DRIVE_RECORD_FOR   start recording at, and stop it that long after
--   SF_DRIVE_FILTERS_AT                      open the Filters window of the source "Photo"
--   SF_DRIVE_STYLE_AT, SF_DRIVE_STYLE         set the style of its "Neural Style" filter, as a script would
-- Each step writes a "[sf-drive] ..." line to OBS's log, which the scripts wait for.
obs = obslua

local started_ns = 0
local steps = {}

local function log(msg)
    obs.blog(obs.LOG_INFO, "[sf-drive] " .. msg)
end

local function env_seconds(name)
    local v = os.getenv(name)
    if v == nil or v == "" then return nil end
    return tonumber(v)
end

local function add_step(at, name, fn)
    if at ~= nil then table.insert(steps, { at = at, name = name, fn = fn, done = false }) end
end

local function tick()
    local elapsed = (obs.os_gettime_ns() - started_ns) / 1e9
    local pending = false
    for _, step in ipairs(steps) do
        if not step.done then
            if elapsed >= step.at then
                step.done = true
                step.fn()
                log(step.name)
            else
                pending = true
            end
        end
    end
    if not pending then obs.timer_remove(tick) end
end

function script_description()
    return "Test driver for the StyleFilter scripts (recording, opening the Filters window)."
end

function script_load(settings)
    started_ns = obs.os_gettime_ns()
    local rec_at, rec_for = env_seconds("SF_DRIVE_RECORD_AT"), env_seconds("SF_DRIVE_RECORD_FOR")
    if rec_at ~= nil and rec_for ~= nil then
        add_step(rec_at, "recording start requested", function() obs.obs_frontend_recording_start() end)
        add_step(rec_at + rec_for, "recording stop requested", function() obs.obs_frontend_recording_stop() end)
    end
    add_step(env_seconds("SF_DRIVE_FILTERS_AT"), "filters window opened", function()
        local source = obs.obs_get_source_by_name("Photo")
        if source ~= nil then
            obs.obs_frontend_open_source_filters(source)
            obs.obs_source_release(source)
        end
    end)
    local style = os.getenv("SF_DRIVE_STYLE")
    add_step(env_seconds("SF_DRIVE_STYLE_AT"), "style set to " .. tostring(style), function()
        local source = obs.obs_get_source_by_name("Photo")
        if source == nil then return end
        local filter = obs.obs_source_get_filter_by_name(source, "Neural Style")
        if filter ~= nil then
            local settings = obs.obs_data_create()
            obs.obs_data_set_string(settings, "style", style)
            obs.obs_source_update(filter, settings)
            obs.obs_data_release(settings)
            obs.obs_source_release(filter)
        end
        obs.obs_source_release(source)
    end)
    log("loaded with " .. #steps .. " step(s)")
    if #steps > 0 then obs.timer_add(tick, 100) end
end
