# Writes the files of the page served at / (web/*.html, *.js, *.css, *.svg)
# into one C source as byte arrays, so that the binary reads nothing at run
# time. Run as: cmake -DWEB_DIR=<dir> -DOUT=<file.c> -P embed_web.cmake
file(GLOB files RELATIVE ${WEB_DIR} ${WEB_DIR}/*.html ${WEB_DIR}/*.js ${WEB_DIR}/*.css
     ${WEB_DIR}/*.svg)
list(SORT files)
set(arrays "")
set(table "")
set(index 0)
string(REPEAT "0x[0-9a-f][0-9a-f]," 16 sixteen) # CMake's regex has no {16}
foreach(name ${files})
  file(READ ${WEB_DIR}/${name} hex HEX)
  string(LENGTH "${hex}" hex_len)
  math(EXPR len "${hex_len} / 2")
  # One "0xNN," per byte, sixteen to a line.
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "(${sixteen})" "\\1\n        " bytes "${bytes}")
  string(APPEND arrays "static const unsigned char asset_${index}[] = {\n        ${bytes}0x00\n};\n")
  string(APPEND table "        { \"${name}\", asset_${index}, ${len} },\n")
  math(EXPR index "${index} + 1")
endforeach()
set(text "/* Generated from web/ by cmake/embed_web.cmake: do not edit. */\n")
string(APPEND text "#include \"routes/web_assets.h\"\n\n${arrays}\n")
string(APPEND text "const web_asset_t web_assets[] = {\n${table}};\n\n")
string(APPEND text "const size_t web_asset_count = ${index};\n")
# Rewritten only when it changes, so an unchanged page rebuilds nothing.
file(CONFIGURE OUTPUT ${OUT} CONTENT "${text}" @ONLY)
