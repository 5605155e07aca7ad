// JupyterLab 4 extension of lightly_studio: a "LightlyStudio" command (palette + launcher) that
// opens the full-page app, served by the jupyter-server extension under /lightly-studio/, in a
// main-area tab. The page is same-origin with Lab, so Jupyter's login cookie authenticates it.
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  IFrame,
  MainAreaWidget,
  ToolbarButton,
  WidgetTracker
} from '@jupyterlab/apputils';
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { ILauncher } from '@jupyterlab/launcher';
import { LabIcon, refreshIcon } from '@jupyterlab/ui-components';

const COMMAND = 'lightly-studio:open';
const LABEL = 'LightlyStudio';
// Must match PREFIX in lightly_studio/server/jupyter.py.
const ROUTE = 'lightly-studio/';

// A grid of thumbnails with a highlighted pick: what the app is for, readable at 16 px.
// `jp-icon3` lets Lab recolour the grey parts for dark themes.
const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16" height="16">
  <g class="jp-icon3" fill="#616161">
    <rect x="2" y="2" width="9" height="9" rx="1.5"/>
    <rect x="2" y="13" width="9" height="9" rx="1.5"/>
    <rect x="13" y="13" width="9" height="9" rx="1.5"/>
  </g>
  <rect x="13" y="2" width="9" height="9" rx="1.5" fill="#3ba55c"/>
</svg>`;

export const lightlyStudioIcon = new LabIcon({ name: 'lightly-studio:icon', svgstr: ICON_SVG });

/** The app's URL inside this Jupyter server (base URL respected: JupyterHub, proxies). */
export function appUrl(): string {
  return URLExt.join(PageConfig.getBaseUrl(), ROUTE);
}

function createWidget(): MainAreaWidget<IFrame> {
  // allow-scripts + allow-same-origin: the app is our own page (same origin as Lab) and needs its
  // scripts, Jupyter's cookies (login, _xsrf) and its WebSocket. Downloads/forms/popups/modals
  // for export, file pickers and confirm dialogs. No top navigation: the app cannot replace Lab.
  const content = new IFrame({
    sandbox: [
      'allow-scripts',
      'allow-same-origin',
      'allow-forms',
      'allow-downloads',
      'allow-popups',
      'allow-modals'
    ],
    referrerPolicy: 'same-origin'
  });
  content.url = appUrl();
  content.addClass('jp-LightlyStudio-frame');
  const widget = new MainAreaWidget({ content });
  widget.id = 'lightly-studio';
  widget.title.label = LABEL;
  widget.title.caption = 'LightlyStudio: curate, search and annotate datasets';
  widget.title.icon = lightlyStudioIcon;
  widget.title.closable = true;
  widget.addClass('jp-LightlyStudio');
  // Opened before start_gui() ran, the app says so; one click picks the server up afterwards.
  const reload = new ToolbarButton({
    icon: refreshIcon,
    tooltip: 'Reload LightlyStudio',
    className: 'jp-LightlyStudio-reload',
    onClick: () => {
      const frame = content.node.querySelector('iframe');
      if (frame?.contentWindow) {
        frame.contentWindow.location.reload();
      } else {
        content.url = appUrl();
      }
    }
  });
  widget.toolbar.addItem('reload', reload);
  return widget;
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'lightly-studio-labextension:plugin',
  description: 'Open LightlyStudio in a JupyterLab tab.',
  autoStart: true,
  optional: [ICommandPalette, ILauncher, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    launcher: ILauncher | null,
    restorer: ILayoutRestorer | null
  ): void => {
    const tracker = new WidgetTracker<MainAreaWidget<IFrame>>({ namespace: 'lightly-studio' });

    app.commands.addCommand(COMMAND, {
      label: LABEL,
      caption: 'Open LightlyStudio in a new tab',
      icon: lightlyStudioIcon,
      execute: () => {
        // One app tab is enough (it follows the data live): focus it instead of opening another.
        const open = tracker.currentWidget ?? tracker.find(() => true);
        if (open && !open.isDisposed) {
          app.shell.activateById(open.id);
          return open;
        }
        const widget = createWidget();
        void tracker.add(widget);
        app.shell.add(widget, 'main');
        app.shell.activateById(widget.id);
        return widget;
      }
    });

    palette?.addItem({ command: COMMAND, category: LABEL });
    launcher?.add({ command: COMMAND, category: 'Other', rank: 0 });
    if (restorer) {
      void restorer.restore(tracker, { command: COMMAND, name: () => 'lightly-studio' });
    }
  }
};

export default plugin;
