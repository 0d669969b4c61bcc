<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>AblationPanel</name>
    <message>
        <location filename="../controls.py" line="53"/>
        <source>on</source>
        <translation>开启</translation>
    </message>
    <message>
        <location filename="../controls.py" line="53"/>
        <source>as trained</source>
        <translation>与训练时相同</translation>
    </message>
    <message>
        <location filename="../controls.py" line="54"/>
        <source>off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../controls.py" line="54"/>
        <source>the block returns its input</source>
        <translation>该模块直接返回输入</translation>
    </message>
    <message>
        <location filename="../controls.py" line="56"/>
        <source>channel only</source>
        <translation>仅通道门</translation>
    </message>
    <message>
        <location filename="../controls.py" line="56"/>
        <source>the channel gate only (the spatial gate skipped)</source>
        <translation>只用通道门（跳过空间门）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="58"/>
        <source>spatial only</source>
        <translation>仅空间门</translation>
    </message>
    <message>
        <location filename="../controls.py" line="58"/>
        <source>the spatial gate only (the channel gate skipped)</source>
        <translation>只用空间门（跳过通道门）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="60"/>
        <source>drop top {0} channels</source>
        <translation>去掉前 {0} 个通道</translation>
    </message>
    <message>
        <location filename="../controls.py" line="60"/>
        <source>the block as trained, then the {0} channels with the largest channel attention set to zero</source>
        <translation>模块照常计算，然后把通道注意力最大的 {0} 个通道置零</translation>
    </message>
    <message>
        <location filename="../controls.py" line="63"/>
        <source>mean gate</source>
        <translation>均值门</translation>
    </message>
    <message>
        <location filename="../controls.py" line="63"/>
        <source>each gate replaced by its mean over the frame: the scale stays, where it attends goes</source>
        <translation>每个门替换为它在整帧上的均值：保留缩放幅度，去掉关注的位置</translation>
    </message>
    <message>
        <location filename="../controls.py" line="490"/>
        <source>Ablation</source>
        <translation>消融</translation>
    </message>
    <message>
        <location filename="../controls.py" line="491"/>
        <source>Switch GAM blocks off, keep one of their gates or flatten them, and see which detections the model keeps, loses or gains on this frame</source>
        <translation>关闭 GAM 模块、只保留其中一个门或把门拉平，看看模型在这一帧上保留、丢失或新增了哪些检测框</translation>
    </message>
    <message>
        <location filename="../controls.py" line="496"/>
        <source>Compare with ablation</source>
        <translation>与消融结果对比</translation>
    </message>
    <message>
        <location filename="../controls.py" line="497"/>
        <source>Detections panel: kept boxes with their score change, lost boxes dashed red, new boxes green; the status bar sums it up</source>
        <translation>检测面板：保留的框标出分数变化，丢失的框为红色虚线，新增的框为绿色；状态栏给出汇总</translation>
    </message>
    <message>
        <location filename="../controls.py" line="503"/>
        <source>All blocks on</source>
        <translation>全部模块开启</translation>
    </message>
    <message>
        <location filename="../controls.py" line="504"/>
        <source>Set every block back to on (as trained)</source>
        <translation>把每个模块恢复为开启（与训练时相同）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="514"/>
        <source>no model loaded</source>
        <translation>未加载模型</translation>
    </message>
    <message>
        <location filename="../controls.py" line="540"/>
        <source>What GAM block {0} does while the ablation view is on</source>
        <translation>消融视图开启时 GAM 模块 {0} 的行为</translation>
    </message>
    <message>
        <location filename="../controls.py" line="542"/>
        <source>Layer {0}:</source>
        <translation>第 {0} 层：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="578"/>
        <source>this model has no GAM blocks to ablate</source>
        <translation>该模型没有可消融的 GAM 模块</translation>
    </message>
    <message>
        <location filename="../controls.py" line="580"/>
        <source>while two models are compared, the comparison is shown instead of the ablation</source>
        <translation>对比两个模型时，显示模型对比而不显示消融</translation>
    </message>
</context>
<context>
    <name>AnalysisWorker</name>
    <message>
        <location filename="../worker.py" line="387"/>
        <source>{0}: has no readable frame</source>
        <translation>{0}：没有可读取的帧</translation>
    </message>
    <message>
        <location filename="../worker.py" line="712"/>
        <source>analysis failed: {0}</source>
        <translation>分析失败：{0}</translation>
    </message>
    <message>
        <location filename="../worker.py" line="726"/>
        <source>rendering failed: {0}</source>
        <translation>绘制失败：{0}</translation>
    </message>
    <message>
        <location filename="../worker.py" line="774"/>
        <source>recording failed: {0}</source>
        <translation>录制失败：{0}</translation>
    </message>
    <message>
        <location filename="../worker.py" line="668"/>
        <source>ablation failed: {0}</source>
        <translation>消融失败：{0}</translation>
    </message>
</context>
<context>
    <name>ChannelBarChart</name>
    <message>
        <location filename="../worker.py" line="840"/>
        <source>Channel attention</source>
        <translation>通道注意力</translation>
    </message>
    <message>
        <location filename="../panels.py" line="372"/>
        <source>no GAM channel attention to show</source>
        <translation>没有可显示的 GAM 通道注意力</translation>
    </message>
    <message>
        <location filename="../panels.py" line="406"/>
        <source>channel {0}: {1:.4f}</source>
        <translation>通道 {0}：{1:.4f}</translation>
    </message>
    <message>
        <location filename="../worker.py" line="843"/>
        <source>Channel attention: {0}</source>
        <translation>通道注意力：{0}</translation>
    </message>
    <message>
        <location filename="../worker.py" line="845"/>
        <source>Channel attention, GAM layer {0} ({1} channels)</source>
        <translation>通道注意力，GAM 层 {0}（{1} 个通道）</translation>
    </message>
</context>
<context>
    <name>ControlPanel</name>
    <message>
        <location filename="../controls.py" line="45"/>
        <source>All detections</source>
        <translation>全部检测框</translation>
    </message>
    <message>
        <location filename="../controls.py" line="45"/>
        <source>Class scores</source>
        <translation>类别分数</translation>
    </message>
    <message>
        <location filename="../controls.py" line="45"/>
        <source>Box outputs</source>
        <translation>边框输出</translation>
    </message>
    <message>
        <location filename="../controls.py" line="45"/>
        <source>Clicked object</source>
        <translation>点击的目标</translation>
    </message>
    <message>
        <location filename="../controls.py" line="45"/>
        <source>Class id</source>
        <translation>类别编号</translation>
    </message>
    <message>
        <location filename="../controls.py" line="50"/>
        <source>mean</source>
        <translation>均值</translation>
    </message>
    <message>
        <location filename="../controls.py" line="50"/>
        <source>max</source>
        <translation>最大值</translation>
    </message>
    <message>
        <location filename="../controls.py" line="169"/>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../controls.py" line="171"/>
        <source>Open weights...</source>
        <translation>打开权重…</translation>
    </message>
    <message>
        <location filename="../controls.py" line="172"/>
        <source>Load a gam-gui, YOLOv5 or YOLOv7 checkpoint (.pt); you can also drop it here</source>
        <translation>加载 gam-gui、YOLOv5 或 YOLOv7 权重文件（.pt）；也可以直接拖放到这里</translation>
    </message>
    <message>
        <location filename="../controls.py" line="395"/>
        <source>no model loaded</source>
        <translation>未加载模型</translation>
    </message>
    <message>
        <location filename="../controls.py" line="178"/>
        <source>Model:</source>
        <translation>模型：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="181"/>
        <source>Classes:</source>
        <translation>类别：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="184"/>
        <source>GAM:</source>
        <translation>GAM：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="189"/>
        <source>Device:</source>
        <translation>设备：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="193"/>
        <source>Detection</source>
        <translation>检测</translation>
    </message>
    <message>
        <location filename="../controls.py" line="197"/>
        <source>Confidence threshold</source>
        <translation>置信度阈值</translation>
    </message>
    <message>
        <location filename="../controls.py" line="198"/>
        <source>Confidence:</source>
        <translation>置信度：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="201"/>
        <source>NMS IoU threshold</source>
        <translation>NMS 的 IoU 阈值</translation>
    </message>
    <message>
        <location filename="../controls.py" line="202"/>
        <source>IoU:</source>
        <translation>IoU：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="207"/>
        <source> px</source>
        <translation> 像素</translation>
    </message>
    <message>
        <location filename="../controls.py" line="208"/>
        <source>Inference size (the long side of the network input)</source>
        <translation>推理尺寸（网络输入的长边）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="210"/>
        <source>Image size:</source>
        <translation>图像尺寸：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="214"/>
        <source>Explanation (CAM)</source>
        <translation>解释（CAM）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="218"/>
        <source>none (off)</source>
        <translation>无（关闭）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="219"/>
        <source>Method:</source>
        <translation>方法：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="222"/>
        <source>Layers whose CAMs are averaged; none selected = the GAM blocks (or the layers feeding the head). Ctrl/Shift-click to choose several.</source>
        <translation>对这些层的 CAM 取平均；不选 = 使用 GAM 模块（或检测头的输入层）。按住 Ctrl/Shift 点击可多选。</translation>
    </message>
    <message>
        <location filename="../controls.py" line="228"/>
        <source>Layers (index, type, shape):</source>
        <translation>层（序号、类型、形状）：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="230"/>
        <source>Default layers</source>
        <translation>默认层</translation>
    </message>
    <message>
        <location filename="../controls.py" line="231"/>
        <source>Clear the selection: use the GAM blocks</source>
        <translation>清除选择：使用 GAM 模块</translation>
    </message>
    <message>
        <location filename="../controls.py" line="237"/>
        <source>Target:</source>
        <translation>目标：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="241"/>
        <source>The detection the CAM explains (click a box to choose it)</source>
        <translation>CAM 要解释的检测框（点击检测框即可选中）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="242"/>
        <source>Object:</source>
        <translation>目标编号：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="244"/>
        <source>Explain every detection of this class</source>
        <translation>解释该类别的全部检测框</translation>
    </message>
    <message>
        <location filename="../controls.py" line="245"/>
        <source>Class:</source>
        <translation>类别：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="246"/>
        <source>Renormalise inside boxes</source>
        <translation>在检测框内重新归一化</translation>
    </message>
    <message>
        <location filename="../controls.py" line="250"/>
        <source>On a playing video or camera, compute the CAM only every N frames (detections and GAM maps still every frame)</source>
        <translation>播放视频或摄像头时，每 N 帧才计算一次 CAM（检测和 GAM 图仍然每帧计算）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="252"/>
        <source>CAM every N frames:</source>
        <translation>CAM 每 N 帧：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="256"/>
        <source>Display</source>
        <translation>显示</translation>
    </message>
    <message>
        <location filename="../controls.py" line="379"/>
        <source>first</source>
        <translation>第一个</translation>
    </message>
    <message>
        <location filename="../controls.py" line="260"/>
        <source>Which GAM block the GAM panels and the channel chart show</source>
        <translation>GAM 面板和通道图显示哪个 GAM 模块</translation>
    </message>
    <message>
        <location filename="../controls.py" line="261"/>
        <source>GAM block:</source>
        <translation>GAM 模块：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="265"/>
        <source>How the GAM maps are reduced over channels</source>
        <translation>GAM 图在通道维度上的合并方式</translation>
    </message>
    <message>
        <location filename="../controls.py" line="266"/>
        <source>Channel reduction:</source>
        <translation>通道合并：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="270"/>
        <source>Colormap:</source>
        <translation>色图：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="273"/>
        <source>Overlay alpha:</source>
        <translation>叠加透明度：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="356"/>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <location filename="../controls.py" line="358"/>
        <source>{0} GAM block(s) at layer(s) {1}</source>
        <translation>{0} 个 GAM 模块，位于第 {1} 层</translation>
    </message>
    <message>
        <location filename="../controls.py" line="362"/>
        <source>no GAM blocks found: the GAM panels stay empty; the CAM uses the layers feeding the head ({0})</source>
        <translation>未找到 GAM 模块：GAM 面板保持空白；CAM 使用检测头的输入层（{0}）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="375"/>
        <source>a GAM block (used by default)</source>
        <translation>GAM 模块（默认使用）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="381"/>
        <source>layer {0}</source>
        <translation>第 {0} 层</translation>
    </message>
</context>
<context>
    <name>ImagePanel</name>
    <message>
        <location filename="../panels.py" line="207"/>
        <source>#{0} {1} (class {2})  score {3:.3f}
click: explain this object</source>
        <translation>#{0} {1}（类别 {2}）  分数 {3:.3f}
点击：解释这个目标</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../main_window.py" line="86"/>
        <source>Open an image, folder or video (Ctrl+O), a camera, or drop a file here</source>
        <translation>打开图片、文件夹或视频（Ctrl+O）、摄像头，或把文件拖放到这里</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="87"/>
        <source>No model loaded: File &gt; Open weights... (or drop a .pt file here)</source>
        <translation>未加载模型：文件 &gt; 打开权重…（或把 .pt 文件拖放到这里）</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="158"/>
        <source>gam-gui: GAM attention in YOLO</source>
        <translation>gam-gui：YOLO 中的 GAM 注意力</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="261"/>
        <source>Controls</source>
        <translation>控制面板</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="603"/>
        <source>device: {0}</source>
        <translation>设备：{0}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="604"/>
        <source>model: {0}</source>
        <translation>模型：{0}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="297"/>
        <source>&amp;Open image or video...</source>
        <translation>打开图片或视频(&amp;O)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="297"/>
        <source>Open an image or video</source>
        <translation>打开图片或视频</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="299"/>
        <source>Open &amp;folder...</source>
        <translation>打开文件夹(&amp;F)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="865"/>
        <source>Open a folder of images</source>
        <translation>打开图片文件夹</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="301"/>
        <source>Open &amp;camera...</source>
        <translation>打开摄像头(&amp;C)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="301"/>
        <source>Open a webcam</source>
        <translation>打开网络摄像头</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="303"/>
        <source>Open &amp;stream URL...</source>
        <translation>打开视频流地址(&amp;S)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="303"/>
        <source>Open an rtsp/http stream</source>
        <translation>打开 rtsp/http 视频流</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="305"/>
        <source>Open &amp;weights...</source>
        <translation>打开权重(&amp;W)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="305"/>
        <source>Load a detector checkpoint (.pt)</source>
        <translation>加载检测器权重文件（.pt）</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="307"/>
        <source>&amp;Save panels as PNG...</source>
        <translation>将面板保存为 PNG(&amp;S)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="307"/>
        <source>Save the side-by-side panels as one PNG</source>
        <translation>把并排的面板保存为一张 PNG</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="309"/>
        <source>Save individual &amp;panels...</source>
        <translation>分别保存各面板(&amp;P)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="309"/>
        <source>Save each visible panel as its own PNG</source>
        <translation>把每个可见面板各自保存为 PNG</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="311"/>
        <source>Save &amp;detections (JSON)...</source>
        <translation>保存检测结果（JSON）(&amp;D)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="311"/>
        <source>Save the current detections as JSON</source>
        <translation>把当前检测结果保存为 JSON</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="313"/>
        <source>&amp;Record panels to MP4</source>
        <translation>将面板录制为 MP4(&amp;R)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="313"/>
        <source>Record the panels of the playing source to an MP4</source>
        <translation>把正在播放的来源的面板录制为 MP4</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="315"/>
        <source>&amp;Export whole source...</source>
        <translation>导出整个来源(&amp;E)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="315"/>
        <source>Export the panels of every frame of the current file or folder</source>
        <translation>导出当前文件或文件夹每一帧的面板</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="317"/>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="317"/>
        <source>Quit gam-gui</source>
        <translation>退出 gam-gui</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="320"/>
        <source>&amp;Play / Pause</source>
        <translation>播放 / 暂停(&amp;P)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="320"/>
        <source>Play or pause</source>
        <translation>播放或暂停</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="321"/>
        <source>&amp;Step forward</source>
        <translation>下一帧(&amp;S)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="321"/>
        <source>Next frame or image</source>
        <translation>下一帧或下一张图片</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="323"/>
        <source>Step &amp;back</source>
        <translation>上一帧(&amp;B)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="323"/>
        <source>Previous frame or image</source>
        <translation>上一帧或上一张图片</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="325"/>
        <source>&amp;Next image</source>
        <translation>下一张图片(&amp;N)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="325"/>
        <source>Next image of the folder</source>
        <translation>文件夹中的下一张图片</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="327"/>
        <source>P&amp;revious image</source>
        <translation>上一张图片(&amp;R)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="327"/>
        <source>Previous image of the folder</source>
        <translation>文件夹中的上一张图片</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="329"/>
        <source>S&amp;top</source>
        <translation>停止(&amp;T)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="329"/>
        <source>Stop: back to the first frame; release a camera</source>
        <translation>停止：回到第一帧；释放摄像头</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="331"/>
        <source>&amp;Loop video</source>
        <translation>循环播放视频(&amp;L)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="331"/>
        <source>Start a video again at its end</source>
        <translation>视频结束后从头播放</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="334"/>
        <source>Re-&amp;analyse</source>
        <translation>重新分析(&amp;A)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="334"/>
        <source>Analyse the current frame again</source>
        <translation>重新分析当前帧</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="339"/>
        <source>{0} panel</source>
        <translation>{0}面板</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="339"/>
        <source>Show or hide the {0} panel</source>
        <translation>显示或隐藏{0}面板</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="345"/>
        <source>Channel &amp;chart</source>
        <translation>通道图(&amp;C)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="345"/>
        <source>Show or hide the bar chart</source>
        <translation>显示或隐藏柱状图</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="357"/>
        <source>&amp;About gam-gui</source>
        <translation>关于 gam-gui(&amp;A)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="672"/>
        <source>Play</source>
        <translation>播放</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="375"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="376"/>
        <source>Loop</source>
        <translation>循环</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="382"/>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="385"/>
        <source>Open &amp;recent</source>
        <translation>最近打开(&amp;R)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="394"/>
        <source>&amp;Playback</source>
        <translation>播放(&amp;P)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="400"/>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="409"/>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="412"/>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="445"/>
        <source>end of source</source>
        <translation>来源已结束</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="456"/>
        <source>CUDA is not available; using the CPU instead of {0}</source>
        <translation>CUDA 不可用；使用 CPU 代替 {0}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="485"/>
        <source>opening {0} ...</source>
        <translation>正在打开 {0} …</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="580"/>
        <source>loading model {0} ...</source>
        <translation>正在加载模型 {0} …</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="606"/>
        <source>{0} GAM blocks</source>
        <translation>{0} 个 GAM 模块</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="606"/>
        <source>no GAM blocks</source>
        <translation>没有 GAM 模块</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="607"/>
        <source>loaded {0}: {1} classes, {2}</source>
        <translation>已加载 {0}：{1} 个类别，{2}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="624"/>
        <source>no model: {0}</source>
        <translation>没有模型：{0}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="628"/>
        <source>Cannot load the weights</source>
        <translation>无法加载权重</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="658"/>
        <source>opened {0} ({1})</source>
        <translation>已打开 {0}（{1}）</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="663"/>
        <source>Cannot open</source>
        <translation>无法打开</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="667"/>
        <source>source closed</source>
        <translation>来源已关闭</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="672"/>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="687"/>
        <source>recording to {0}</source>
        <translation>正在录制到 {0}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="1015"/>
        <source>saved {0}</source>
        <translation>已保存 {0}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="687"/>
        <source>recording stopped</source>
        <translation>录制已停止</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="725"/>
        <source>live frame {0}  (dropped {1})</source>
        <translation>实时帧 {0}  （丢弃 {1}）</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="727"/>
        <source>image {0} / {1}: {2}</source>
        <translation>图片 {0} / {1}：{2}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="732"/>
        <source>frame {0} / {1}</source>
        <translation>帧 {0} / {1}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="734"/>
        <source>  (dropped {0})</source>
        <translation>  （丢弃 {0}）</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="763"/>
        <source>inference {0:.0f} ms | CAM {1:.0f} ms | GAM {2:.0f} ms | total {3:.0f} ms</source>
        <translation>推理 {0:.0f} ms | CAM {1:.0f} ms | GAM {2:.0f} ms | 总计 {3:.0f} ms</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="826"/>
        <source>CAM target: detection #{0} ({1}, score {2:.3f})</source>
        <translation>CAM 目标：检测框 #{0}（{1}，分数 {2:.3f}）</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="852"/>
        <source>(none)</source>
        <translation>（无）</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="855"/>
        <source>Clear list</source>
        <translation>清空列表</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="859"/>
        <source>Open image or video</source>
        <translation>打开图片或视频</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="859"/>
        <source>Images and videos ({0});;All files (*)</source>
        <translation>图片和视频 ({0});;所有文件 (*)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="872"/>
        <source>No camera</source>
        <translation>没有摄像头</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="872"/>
        <source>No camera was found (no /dev/video* device).</source>
        <translation>未找到摄像头（没有 /dev/video* 设备）。</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="875"/>
        <source>Open camera</source>
        <translation>打开摄像头</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="875"/>
        <source>Camera:</source>
        <translation>摄像头：</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="881"/>
        <source>Open stream</source>
        <translation>打开视频流</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="881"/>
        <source>Stream URL (rtsp://, http://, ...):</source>
        <translation>视频流地址（rtsp://、http://、…）：</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="896"/>
        <source>Open weights</source>
        <translation>打开权重</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="896"/>
        <source>Checkpoints (*.pt *.pth);;All files (*)</source>
        <translation>权重文件 (*.pt *.pth);;所有文件 (*)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="917"/>
        <source>Replace files?</source>
        <translation>替换文件？</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="917"/>
        <source>These files exist already:
{0}

Replace them?</source>
        <translation>这些文件已经存在：
{0}

要替换它们吗？</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="933"/>
        <source>nothing analysed to save yet</source>
        <translation>还没有可保存的分析结果</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="1013"/>
        <source>Cannot save</source>
        <translation>无法保存</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="961"/>
        <source>Save panels as PNG</source>
        <translation>将面板保存为 PNG</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="961"/>
        <source>PNG images (*.png)</source>
        <translation>PNG 图片 (*.png)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="983"/>
        <source>saved {0} panel(s) to {1}</source>
        <translation>已将 {0} 个面板保存到 {1}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="989"/>
        <source>Save panels into folder</source>
        <translation>把面板保存到文件夹</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="1021"/>
        <source>Save detections</source>
        <translation>保存检测结果</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="1021"/>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="1040"/>
        <source>open a video or camera first</source>
        <translation>请先打开视频或摄像头</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="1043"/>
        <source>Record panels to MP4</source>
        <translation>将面板录制为 MP4</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="1043"/>
        <source>MP4 video (*.mp4)</source>
        <translation>MP4 视频 (*.mp4)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="1052"/>
        <source>open a file or folder and a model first</source>
        <translation>请先打开文件或文件夹以及模型</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="1054"/>
        <source>Export panels into folder</source>
        <translation>把面板导出到文件夹</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="1061"/>
        <source>Export video</source>
        <translation>导出视频</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="1061"/>
        <source>Write one MP4 of the panels (Yes) or a PNG per frame (No)?</source>
        <translation>把面板写成一个 MP4（是），还是每帧一张 PNG（否）？</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="1073"/>
        <source>an export is running already</source>
        <translation>已有导出正在进行</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="1075"/>
        <source>Exporting...</source>
        <translation>正在导出…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="1075"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="1092"/>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="1106"/>
        <source>gam-gui {0}</source>
        <translation>gam-gui {0}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="1106"/>
        <source>gam-gui shows what the GAM attention in a YOLO-GAM detector does: detections, a Grad-CAM explanation and the GAM channel and spatial attention, side by side.</source>
        <translation>gam-gui 展示 YOLO-GAM 检测器中的 GAM 注意力起了什么作用：检测结果、Grad-CAM 解释，以及 GAM 通道注意力和空间注意力，并排显示。</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="1106"/>
        <source>Click a box to explain that object. Space plays or pauses, Right/&apos;.&apos; steps.</source>
        <translation>点击检测框即可解释该目标。空格键播放或暂停，右方向键或“.”逐帧前进。</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="1106"/>
        <source>Device: {0}</source>
        <translation>设备：{0}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="1119"/>
        <source>About gam-gui</source>
        <translation>关于 gam-gui</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="1128"/>
        <source>the window is already in {0}</source>
        <translation>窗口已经是{0}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="1130"/>
        <source>The window will be in {0} the next time gam-gui starts.</source>
        <translation>下次启动 gam-gui 时，窗口将使用{0}。</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="1132"/>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="1237"/>
        <source>no sample found: {0}</source>
        <translation>未找到示例：{0}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="119"/>
        <source>{0} both (mean {1}), {2} A only, {3} B only</source>
        <translation>{0} 个共有（平均 {1}），{2} 个仅 A，{3} 个仅 B</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="121"/>
        <source>{0} both, {1} A only, {2} B only</source>
        <translation>{0} 个共有，{1} 个仅 A，{2} 个仅 B</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="123"/>
        <source>{0} kept (mean {1}), {2} lost, {3} new</source>
        <translation>{0} 个保留（平均 {1}），{2} 个丢失，{3} 个新增</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="125"/>
        <source>{0} kept, {1} lost, {2} new</source>
        <translation>{0} 个保留，{1} 个丢失，{2} 个新增</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="351"/>
        <source>&amp;Compare with...</source>
        <translation>与其他模型对比(&amp;C)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="351"/>
        <source>Run a second model on the same frames and show both side by side (the ablation view is off meanwhile)</source>
        <translation>在相同的帧上运行第二个模型并并排显示两者（期间消融视图关闭）</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="354"/>
        <source>Stop c&amp;omparing</source>
        <translation>停止对比(&amp;O)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="354"/>
        <source>Back to the normal view of one model</source>
        <translation>回到单个模型的普通视图</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="633"/>
        <source>loading model B {0} ...</source>
        <translation>正在加载模型 B {0} …</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="641"/>
        <source>comparing A: {0} with B: {1}</source>
        <translation>正在对比 A：{0} 与 B：{1}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="646"/>
        <source>Cannot load the model to compare with</source>
        <translation>无法加载用于对比的模型</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="652"/>
        <source>comparison stopped</source>
        <translation>已停止对比</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="745"/>
        <source>A vs B: {0}</source>
        <translation>A 对比 B：{0}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="747"/>
        <source>ablation {0}: {1}</source>
        <translation>消融 {0}：{1}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="758"/>
        <source>A {0:.0f} ms | B {1:.0f} ms | total {2:.0f} ms</source>
        <translation>A {0:.0f} ms | B {1:.0f} ms | 总计 {2:.0f} ms</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="766"/>
        <source> | ablation {0:.0f} ms</source>
        <translation> | 消融 {0:.0f} ms</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="889"/>
        <source>Compare with model</source>
        <translation>与模型对比</translation>
    </message>
</context>
<context>
    <name>render</name>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>Detections</source>
        <translation>检测结果</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>CAM</source>
        <translation>CAM</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>GAM channel</source>
        <translation>GAM 通道</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>GAM spatial</source>
        <translation>GAM 空间</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>Frame</source>
        <translation>帧</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>{n} object  conf {conf}  iou {iou}</source>
        <translation>{n} 个目标  置信度 {conf}  IoU {iou}</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>{n} objects  conf {conf}  iou {iou}</source>
        <translation>{n} 个目标  置信度 {conf}  IoU {iou}</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>L{layers}  target: {target}</source>
        <translation>L{layers}  目标：{target}</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>L{layers}  target: {target}  ({note})</source>
        <translation>L{layers}  目标：{target}  （{note}）</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>layer {layer}  {reduction} over {channels} ch  ({variant})</source>
        <translation>第 {layer} 层  {channels} 个通道的{reduction}  （{variant}）</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>layer {layer}  {reduction}</source>
        <translation>第 {layer} 层  {reduction}</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>this model has no GAM layers</source>
        <translation>该模型没有 GAM 层</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>no model loaded: File &gt; Open weights</source>
        <translation>未加载模型：文件 &gt; 打开权重</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>all detections</source>
        <translation>全部检测框</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>class scores</source>
        <translation>类别分数</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>box outputs</source>
        <translation>边框输出</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>detection #{0}</source>
        <translation>检测框 #{0}</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>class {0}</source>
        <translation>类别 {0}</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>mean</source>
        <translation>均值</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>max</source>
        <translation>最大值</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>A vs B: boxes</source>
        <translation>A 对比 B：检测框</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>CAM A - CAM B</source>
        <translation>CAM A - CAM B</translation>
    </message>
</context>
</TS>
