# Shared by tests/ofx/run.sh and tests/ofx/bench_sequential.sh (sourced; expects REPO and TEST_OUT).

# decode W H: raw RGBA8 frames of the test picture, assets/content/tubingen.jpg, scaled to W x H (cached; empty
# without ffmpeg, and the host then uses a synthetic picture).
decode() {
    local w="$1" h="$2" file="$TEST_OUT/source_${1}x${2}.rgba"
    if [ ! -s "$file" ] && command -v ffmpeg > /dev/null && [ -f "$REPO/assets/content/tubingen.jpg" ]; then
        ffmpeg -nostdin -v error -y -i "$REPO/assets/content/tubingen.jpg" -vf "scale=${w}:${h}" -frames:v 1 \
            -pix_fmt rgba -f rawvideo "$file" || rm -f "$file"
    fi
    echo "$file"
}

# shim_bundle BUNDLE DIR [gcc flags]: a copy of BUNDLE in DIR with tests/ofx/engine_shim.c as stylefilter.so in front
# of the real engine (renamed stylefilter_real.so); prints the copy's path.
shim_bundle() {
    local bundle="$1" dir="$2"
    shift 2
    rm -rf "$dir"
    mkdir -p "$dir"
    cp -a "$bundle" "$dir/StyleFilter.ofx.bundle"
    local bin="$dir/StyleFilter.ofx.bundle/Contents/Linux-x86-64"
    mv "$bin/stylefilter.so" "$bin/stylefilter_real.so"
    gcc -std=gnu11 -O2 -Wall -Wextra -Werror -shared -fPIC "$@" -I"$REPO/src/StyleFilter.Native" \
        "$REPO/tests/ofx/engine_shim.c" -o "$bin/stylefilter.so" -ldl
    echo "$dir/StyleFilter.ofx.bundle"
}

# build_test_host OUTPUT: the test host (host.cpp, test_ofx.cpp).
build_test_host() {
    g++ -std=c++17 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
        -I"$REPO/ofx-plugin/include" -I"$REPO/src/StyleFilter.Native" \
        "$REPO/tests/ofx/host.cpp" "$REPO/tests/ofx/test_ofx.cpp" -o "$1" -ldl -pthread
}
